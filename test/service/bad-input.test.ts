import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createOrder } from '../support/flows.ts';
import { testSystem, type TestSystem } from '../support/system.ts';

let sys: TestSystem;
before(async () => {
  sys = await testSystem();
});
after(() => sys.close());

const deep = (n: number) => `{"phone": ${'['.repeat(n)}${']'.repeat(n)}}`;
const count = async (db: any, table: string) =>
  Number(
    (
      await db
        .selectFrom(table)
        .select((eb: any) => eb.fn.countAll().as('n'))
        .executeTakeFirst()
    ).n,
  );
const backendDb = () => sys.backend.db;
const payDb = () => sys.payserver.db;

describe('bad input is a 4xx that changes nothing', () => {
  it('refuses JSON nested 5,000 deep with an Idempotency-Key on every route it reached, storing nothing', async () => {
    const orderId = await createOrder(sys, 'kids-app');
    const keysBefore = await count(backendDb(), 'idempotency_keys');
    const payKeysBefore = await count(payDb(), 'idempotency_keys');
    const headers = { 'idempotency-key': 'deep-1' };
    for (const [call, url] of [
      [sys.tv, `/v1/orders/${orderId}/payer`],
      [sys.tv, `/v1/orders/${orderId}/cancel`],
      [sys.payAdmin, '/admin/v1/accounts'],
    ] as const) {
      const res = await call('POST', url, deep(5000), headers);
      assert.equal(res.statusCode, 400, `${url}: ${res.body}`);
      assert.equal(res.json().code, 'JSON_TOO_DEEP');
      assert.match(res.headers['content-type'] as string, /problem\+json/);
    }
    assert.equal(await count(backendDb(), 'idempotency_keys'), keysBefore);
    assert.equal(await count(payDb(), 'idempotency_keys'), payKeysBefore);
    assert.equal((await sys.tv('GET', `/v1/orders/${orderId}`)).json().status, 'created', 'the order is untouched');
  });

  it('refuses a body on cancel, which takes none, and leaves the order open', async () => {
    const orderId = await createOrder(sys, 'kids-app');
    const res = await sys.tv('POST', `/v1/orders/${orderId}/cancel`, '{"reason":"junk","x":[1,2,3]}');
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().code, 'BODY_NOT_ALLOWED');
    assert.equal((await sys.tv('GET', `/v1/orders/${orderId}`)).json().status, 'created');
    assert.equal(
      (await sys.tv('POST', `/v1/orders/${orderId}/cancel`)).json().status,
      'cancelled',
      'without a body it cancels',
    );
  });

  it('answers a phone that is not a JSON string with PHONE_INVALID', async () => {
    const orderId = await createOrder(sys, 'kids-app');
    for (const phone of ['13800138000', '[["13800138000"]]', 'null', '{"n":1}']) {
      const res = await sys.tv('POST', `/v1/orders/${orderId}/payer`, `{"phone": ${phone}}`);
      assert.equal(res.statusCode, 400, phone);
      assert.equal(res.json().code, 'PHONE_INVALID', phone);
    }
  });

  it('refuses a lone surrogate in a reply, a title or a query with a 400 and stores nothing', async () => {
    const before = (await sys.carrier.carrier.inbox('8613800138000')).length;
    const reply = await sys.carrier.app.inject({
      method: 'POST',
      url: '/dev/v1/phones/8613800138000/replies',
      headers: { 'content-type': 'application/json' },
      payload: '{"text":"hi\\ud800"}',
    });
    assert.equal(reply.statusCode, 400, reply.body);
    assert.equal(reply.json().code, 'TEXT_MALFORMED');
    assert.equal((await sys.carrier.carrier.inbox('8613800138000')).length, before);
    const title = await sys.backendAdmin(
      'PUT',
      '/admin/v1/products/odd',
      '{"title":"A\\udc00B","amountMinor":100,"currency":"CNY","service":"odd","durationDays":1}',
    );
    assert.equal(title.statusCode, 400, title.body);
    assert.equal(title.json().code, 'TEXT_MALFORMED');
    const products = (await sys.tv('GET', '/v1/products')).json();
    assert.ok(
      !products.some((p: { productId: string }) => p.productId === 'odd'),
      "!products.some((p: { productId: string }) => p.productId === 'odd')",
    );
    const query = await sys.payAdmin('GET', '/admin/v1/sms?phone=%ED%A0%80');
    assert.ok(query.statusCode >= 400 && query.statusCode < 500, String(query.statusCode));
  });
});

import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { signRequest } from '../../src/lib/signing.ts';
import { createOrder } from '../support/flows.ts';
import { testSystem, type TestSystem } from '../support/system.ts';

let sys: TestSystem;
let umask: number;
before(async () => {
  umask = process.umask(0o000);
  sys = await testSystem();
});
after(async () => {
  await sys.close();
  process.umask(umask);
});

describe('secrets at rest and credentials in the right place', () => {
  it('never stores a device token with its idempotency key, and a replay says it was created without showing it', async () => {
    const headers = { 'idempotency-key': 'provision-tv-7' };
    const first = await sys.backendAdmin('POST', '/admin/v1/devices', { name: 'tv 7', accountId: 'acct-7' }, headers);
    assert.equal(first.statusCode, 201);
    const token = first.json().token as string;
    assert.match(token, /^tvd_/);
    const replay = await sys.backendAdmin('POST', '/admin/v1/devices', { name: 'tv 7', accountId: 'acct-7' }, headers);
    assert.equal(replay.statusCode, 201);
    assert.equal(replay.json().deviceId, first.json().deviceId);
    assert.equal(replay.json().token, undefined);
    assert.match(replay.json().detail, /shown only/);
    assert.ok(!replay.body.includes(token), '!replay.body.includes(token)');
    const rows = await sys.backend.db.selectFrom('idempotency_keys').selectAll().execute();
    assert.ok(
      rows.every((r: { response_body: string | null }) => !(r.response_body ?? '').includes(token)),
      'the token is not at rest',
    );
  });

  it('keeps the data dir owner-only and every database and secret file 0600, whatever the umask', async () => {
    assert.equal(statSync(sys.dir).mode & 0o777, 0o700);
    const files = readdirSync(sys.dir);
    assert.ok(files.includes('code-key'), 'the payment server has a code key of its own');
    // The development rails keep their keys in folders of their own, owner-only too.
    for (const f of files) {
      const stat = statSync(join(sys.dir, f));
      assert.equal(stat.mode & 0o777, stat.isDirectory() ? 0o700 : 0o600, f);
    }
    assert.notEqual(sys.secrets.codeKey, sys.secrets.serviceSecret);
  });

  it('takes a device token from the query string on the event stream only', async () => {
    const token = encodeURIComponent(sys.deviceToken);
    const products = await sys.as(undefined)('GET', `/v1/products?x=/events?&access_token=${token}`);
    assert.equal(products.statusCode, 401);
    const orderId = await createOrder(sys, 'kids-app');
    await sys.tv('POST', `/v1/orders/${orderId}/cancel`);
    const stream = await sys.as(undefined)('GET', `/v1/orders/${orderId}/events?access_token=${token}`);
    assert.equal(stream.statusCode, 200);
    assert.match(stream.body, /event: order/);
  });

  it('refuses a signed route a body that is not JSON, since the signature never covered it', async () => {
    const path = '/internal/v1/bindings/lookup';
    const headers = signRequest(sys.secrets.serviceSecret, 'POST', path, '', new Date(), 'nonce-form-body-0001');
    const res = await sys.payserver.app.inject({
      method: 'POST',
      url: path,
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'phone=%2B8613800138000',
    });
    assert.equal(res.statusCode, 415, res.body);
  });

  it('forbids framing and type sniffing of the payment pages, the TV app and the phone page', async () => {
    const created = await sys.tv('POST', '/v1/orders', { productId: 'kids-app' });
    const order = (await sys.tv('POST', `/v1/orders/${created.json().orderId}/payer`, { phone: '13600136000' })).json();
    const pages = [
      await sys.payserver.app.inject({ url: new URL(order.payUrl).pathname }),
      await sys.backend.app.inject({ url: '/tv/' }),
      await sys.carrier.app.inject({ url: '/dev/phones/8613600136000' }),
    ];
    for (const page of pages) {
      assert.equal(page.statusCode, 200);
      assert.match(String(page.headers['content-security-policy']), /frame-ancestors 'none'/);
      assert.equal(page.headers['x-content-type-options'], 'nosniff');
    }
    await sys.tv('POST', `/v1/orders/${created.json().orderId}/cancel`);
  });
});

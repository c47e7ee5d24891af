import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { signRequest } from '../../src/lib/signing.ts';
import { createOrder } from '../support/flows.ts';
import { testSystem, type Injected, type TestSystem } from '../support/system.ts';

let sys: TestSystem;
before(async () => {
  sys = await testSystem({ TVPAY_LIMIT_PAYER_PER_DEVICE: '1000' });
});
after(() => sys.close());

function problem(res: Injected, status: number, code: string) {
  assert.equal(res.statusCode, status, res.body);
  assert.match(String(res.headers['content-type']), /application\/problem\+json/);
  const body = res.json();
  assert.equal(body.code, code);
  assert.equal(body.status, status);
  assert.ok(body.title && body.type && body.detail, 'a problem has type, title and detail');
  assert.doesNotMatch(res.body, /at .*\.ts:|SELECT|INSERT/i, 'no stack traces or SQL');
  return body;
}

const productsNow = async () => (await sys.tv('GET', '/v1/products')).json();

describe('health and contract', () => {
  it('answers /healthz and /readyz with 200', async () => {
    assert.equal((await sys.backend.app.inject({ url: '/healthz' })).statusCode, 200);
    assert.equal((await sys.backend.app.inject({ url: '/readyz' })).statusCode, 200);
  });
  it('publishes an OpenAPI document of the public routes', async () => {
    const doc = (await sys.backend.app.inject({ url: '/openapi.json' })).json();
    assert.ok(doc.openapi);
    for (const path of [
      '/v1/orders',
      '/v1/orders/{orderId}/payer',
      '/v1/orders/{orderId}/payer/cancel',
      '/v1/orders/{orderId}/scan',
      '/v1/rails',
      '/admin/v1/products/{productId}',
      '/v1/entitlements',
    ])
      assert.ok(doc.paths[path], path);
  });
  it('answers an unknown route with a problem+json 404', async () => {
    problem(await sys.tv('GET', '/v1/nothing-here'), 404, 'NOT_FOUND');
  });
});

describe('admin products', () => {
  it('creates and replaces a product', async () => {
    const body = { title: '体育包月', amountMinor: 3000, currency: 'CNY', service: 'sports', durationDays: 30 };
    const res = await sys.backendAdmin('PUT', '/admin/v1/products/sports-month', body);
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), { productId: 'sports-month', ...body, renews: false, description: '', localized: {} });
    const renewing = await sys.backendAdmin('PUT', '/admin/v1/products/sports-month', { ...body, renews: true });
    assert.equal(renewing.json().renews, true);
    const again = await sys.backendAdmin('PUT', '/admin/v1/products/sports-month', { ...body, amountMinor: 3500 });
    assert.equal(again.json().amountMinor, 3500);
    const worded = await sys.backendAdmin('PUT', '/admin/v1/products/sports-month', {
      ...body,
      description: '全部体育赛事直播',
      localized: { en: { title: 'Sports, one month', description: 'Every match, live.' } },
    });
    assert.equal(worded.statusCode, 200, worded.body);
    const listed = (await sys.tv('GET', '/v1/products'))
      .json()
      .find((p: { productId: string }) => p.productId === 'sports-month');
    assert.deepEqual(
      [listed.description, listed.localized.en],
      ['全部体育赛事直播', { title: 'Sports, one month', description: 'Every match, live.' }],
      'the TV gets the words of each language',
    );
    const unknownLanguage = await sys.backendAdmin('PUT', '/admin/v1/products/sports-month', {
      ...body,
      localized: { fr: { title: 'Sport' } },
    });
    assert.equal(unknownLanguage.statusCode, 400, 'only the TV languages');
  });
  it('refuses bad amounts, fields and types with VALIDATION_FAILED and changes nothing', async () => {
    const good = { title: 'X', amountMinor: 100, currency: 'CNY', service: 'x', durationDays: 1 };
    const before = await productsNow();
    for (const body of [
      { ...good, amountMinor: -1 },
      { ...good, amountMinor: 0 },
      { ...good, amountMinor: 1.5 },
      { ...good, amountMinor: 100000001 },
      { ...good, amountMinor: '100' },
      { ...good, amountMinor: 1e21 },
      { ...good, currency: 'cny' },
      { ...good, durationDays: 0 },
      { ...good, renews: true, durationDays: 30.5 },
      { ...good, renews: 'yes' },
      { ...good, title: '   ' },
      { ...good, title: '' },
      { ...good, extra: true },
      { title: 'X', currency: 'CNY', service: 'x', durationDays: 1 },
      [],
      '"just a string"',
    ]) {
      problem(await sys.backendAdmin('PUT', '/admin/v1/products/bad-one', body), 400, 'VALIDATION_FAILED');
    }
    problem(
      await sys.backendAdmin('PUT', '/admin/v1/products/bad-one', { ...good, currency: 'XYZ' }),
      400,
      'CURRENCY_UNSUPPORTED',
    );
    assert.deepEqual(await productsNow(), before);
  });
  it('refuses malformed JSON, an empty body and a body over 64 KB', async () => {
    problem(await sys.backendAdmin('PUT', '/admin/v1/products/bad-one', '{"title": '), 400, 'MALFORMED_JSON');
    problem(await sys.backendAdmin('PUT', '/admin/v1/products/bad-one', ''), 400, 'MALFORMED_JSON');
    problem(
      await sys.backendAdmin('PUT', '/admin/v1/products/bad-one', JSON.stringify({ title: 'x'.repeat(70_000) })),
      413,
      'PAYLOAD_TOO_LARGE',
    );
  });
  it('refuses a body that is not JSON with 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const res = (await sys.backend.app.inject({
      method: 'POST',
      url: '/v1/orders',
      payload: 'productId=vip-year',
      headers: { authorization: `Bearer ${sys.deviceToken}`, 'content-type': 'text/plain' },
    })) as Injected;
    problem(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });
  it('refuses a request without or with a wrong admin token', async () => {
    const body = { title: 'X', amountMinor: 100, currency: 'CNY', service: 'x', durationDays: 1 };
    problem(await sys.as(undefined)('PUT', '/admin/v1/products/x', body), 401, 'UNAUTHORIZED');
    problem(await sys.as('wrong')('PUT', '/admin/v1/products/x', body), 401, 'UNAUTHORIZED');
    problem(await sys.tv('PUT', '/admin/v1/products/x', body), 401, 'UNAUTHORIZED');
  });
});

describe('devices', () => {
  it('provisions a device whose token works and is stored only as a hash', async () => {
    const res = await sys.backendAdmin('POST', '/admin/v1/devices', { name: 'Bedroom TV', accountId: 'sub-42' });
    assert.equal(res.statusCode, 201, res.body);
    const { deviceId, token } = res.json();
    assert.ok(token.length >= 40);
    assert.equal((await sys.as(token)('GET', '/v1/products')).statusCode, 200);
    const rows = await sys.backend.app.inject({ url: '/healthz' }); // keep the app warm
    assert.equal(rows.statusCode, 200);
    const stored = await sys.backend.db
      .selectFrom('devices')
      .selectAll()
      .where('id', '=', deviceId)
      .executeTakeFirstOrThrow();
    assert.notEqual(stored.token_hash, token);
    assert.doesNotMatch(JSON.stringify(stored), new RegExp(token));
  });
  it('refuses TV routes without a valid device token', async () => {
    problem(await sys.as(undefined)('GET', '/v1/products'), 401, 'UNAUTHORIZED');
    problem(await sys.as('tvd_nope')('GET', '/v1/products'), 401, 'UNAUTHORIZED');
    problem(await sys.as(sys.secrets.adminToken)('GET', '/v1/orders/x'), 401, 'UNAUTHORIZED');
  });
});

describe('orders', () => {
  it('creates an order at the catalogue price', async () => {
    const res = await sys.tv('POST', '/v1/orders', { productId: 'vip-month' });
    assert.equal(res.statusCode, 201);
    const o = res.json();
    assert.equal(o.status, 'created');
    assert.equal(o.amountMinor, 2500);
    assert.equal(o.currency, 'CNY');
    assert.equal(o.payUrl, null);
    assert.equal(o.channel, null);
    assert.ok(Date.parse(o.expiresAt) - Date.parse(o.createdAt) === 15 * 60 * 1000);
  });
  it('refuses an unknown product and bad bodies', async () => {
    problem(await sys.tv('POST', '/v1/orders', { productId: 'no-such' }), 404, 'PRODUCT_NOT_FOUND');
    problem(await sys.tv('POST', '/v1/orders', { productId: 5 }), 400, 'VALIDATION_FAILED');
    problem(await sys.tv('POST', '/v1/orders', { productId: 'vip-month', amountMinor: 1 }), 400, 'VALIDATION_FAILED');
    problem(await sys.tv('POST', '/v1/orders', {}), 400, 'VALIDATION_FAILED');
  });
  it("hides another device's order as not found", async () => {
    const orderId = await createOrder(sys);
    const other = (await sys.backendAdmin('POST', '/admin/v1/devices', { name: 'Other', accountId: 'sub-7' })).json()
      .token;
    problem(await sys.as(other)('GET', `/v1/orders/${orderId}`), 404, 'ORDER_NOT_FOUND');
    problem(
      await sys.as(other)('POST', `/v1/orders/${orderId}/payer`, { phone: '13800138000' }),
      404,
      'ORDER_NOT_FOUND',
    );
    problem(await sys.as(other)('POST', `/v1/orders/${orderId}/cancel`), 404, 'ORDER_NOT_FOUND');
    problem(await sys.as(other)('POST', `/v1/orders/${orderId}/payer/cancel`), 404, 'ORDER_NOT_FOUND');
    problem(await sys.as(other)('GET', `/v1/orders/${orderId}/events`), 404, 'ORDER_NOT_FOUND');
    assert.equal((await sys.tv('GET', `/v1/orders/${orderId}`)).json().status, 'created');
  });
  it('refuses invalid, non-mobile and foreign phones with PHONE_INVALID and leaves the order as it was', async () => {
    const orderId = await createOrder(sys);
    const before = (await sys.tv('GET', `/v1/orders/${orderId}`)).json();
    for (const phone of ['12345', '01012345678', '+14155552671', '+85261234567', 'abc', '+86 138 0013 800']) {
      problem(await sys.tv('POST', `/v1/orders/${orderId}/payer`, { phone }), 400, 'PHONE_INVALID');
    }
    for (const phone of [13800138000, '', null, ['13800138000'], 'x'.repeat(100)]) {
      problem(await sys.tv('POST', `/v1/orders/${orderId}/payer`, { phone }), 400, 'PHONE_INVALID');
    }
    problem(await sys.tv('POST', `/v1/orders/${orderId}/payer`, {}), 400, 'VALIDATION_FAILED');
    problem(
      await sys.tv('POST', `/v1/orders/${orderId}/payer`, { phone: '13800138000', note: 1 }),
      400,
      'VALIDATION_FAILED',
    );
    assert.deepEqual((await sys.tv('GET', `/v1/orders/${orderId}`)).json(), before);
  });
  it('cancels an open order once; a payer or cancel for a final order is 409 ORDER_FINAL', async () => {
    const orderId = await createOrder(sys);
    const res = await sys.tv('POST', `/v1/orders/${orderId}/cancel`);
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().status, 'cancelled');
    problem(await sys.tv('POST', `/v1/orders/${orderId}/cancel`), 409, 'ORDER_FINAL');
    problem(await sys.tv('POST', `/v1/orders/${orderId}/payer`, { phone: '13800138000' }), 409, 'ORDER_FINAL');
    problem(await sys.tv('POST', `/v1/orders/${orderId}/payer/cancel`), 409, 'ORDER_FINAL');
    assert.equal((await sys.tv('GET', `/v1/orders/${orderId}`)).json().status, 'cancelled');
  });
  it('streams a final order as one event, with its security headers, and closes', async () => {
    const orderId = await createOrder(sys);
    await sys.tv('POST', `/v1/orders/${orderId}/cancel`);
    const res = await sys.tv('GET', `/v1/orders/${orderId}/events`);
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /text\/event-stream/);
    assert.equal(
      res.headers['x-content-type-options'],
      'nosniff',
      'the stream carries its security headers though it skips the hooks',
    );
    const events = res.body.split('\n\n').filter((e) => e.startsWith('event: order'));
    assert.equal(events.length, 1);
    assert.equal(JSON.parse(/data: (.*)/.exec(events[0]!)![1]!).status, 'cancelled');
  });
  it('shows the operator the unmasked payer phone, the TV only the masked one', async () => {
    const orderId = await createOrder(sys);
    const tv = (await sys.tv('POST', `/v1/orders/${orderId}/payer`, { phone: '+86 138 0013 8000' })).json();
    assert.equal(tv.payerPhoneMasked, '+86 138****8000');
    assert.equal(tv.payerPhone, undefined);
    assert.doesNotMatch(JSON.stringify(tv), /13800138000/);
    const admin = (await sys.backendAdmin('GET', `/admin/v1/orders/${orderId}`)).json();
    assert.equal(admin.payerPhone, '+8613800138000');
    problem(await sys.backendAdmin('GET', '/admin/v1/orders/ord_missing'), 404, 'ORDER_NOT_FOUND');
    await sys.tv('POST', `/v1/orders/${orderId}/cancel`);
  });
  it('lists no entitlements for an account that bought nothing', async () => {
    const other = (await sys.backendAdmin('POST', '/admin/v1/devices', { name: 'New', accountId: 'sub-new' })).json()
      .token;
    const res = await sys.as(other)('GET', '/v1/entitlements');
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), []);
  });
});

describe('Idempotency-Key', () => {
  it('replays the first answer for the same key and body and creates one order', async () => {
    const headers = { 'idempotency-key': 'k-create-1' };
    const first = await sys.tv('POST', '/v1/orders', { productId: 'vip-month' }, headers);
    const second = await sys.tv('POST', '/v1/orders', { productId: 'vip-month' }, headers);
    assert.equal(first.statusCode, 201);
    assert.equal(second.statusCode, 201);
    assert.equal(second.json().orderId, first.json().orderId);
    assert.equal(second.headers['idempotent-replayed'], 'true');
  });
  it('refuses the same key with another body with 422 IDEMPOTENCY_KEY_REUSED', async () => {
    const headers = { 'idempotency-key': 'k-create-2' };
    await sys.tv('POST', '/v1/orders', { productId: 'vip-month' }, headers);
    problem(await sys.tv('POST', '/v1/orders', { productId: 'vip-year' }, headers), 422, 'IDEMPOTENCY_KEY_REUSED');
  });
  it('keeps keys apart per device', async () => {
    const other = (await sys.backendAdmin('POST', '/admin/v1/devices', { name: 'Idem', accountId: 'sub-idem' })).json()
      .token;
    const headers = { 'idempotency-key': 'k-shared' };
    const a = await sys.tv('POST', '/v1/orders', { productId: 'vip-month' }, headers);
    const b = await sys.as(other)('POST', '/v1/orders', { productId: 'vip-month' }, headers);
    assert.notEqual(a.json().orderId, b.json().orderId);
  });
  it('refuses a key longer than 255 characters', async () => {
    problem(
      await sys.tv('POST', '/v1/orders', { productId: 'vip-month' }, { 'idempotency-key': 'k'.repeat(256) }),
      400,
      'VALIDATION_FAILED',
    );
  });
});

describe('payment-server messages to the back-end', () => {
  const path = '/internal/v1/payment-events';
  const message = (orderId: string, messageId: string) => ({
    messageId,
    type: 'payment.failed',
    orderId,
    attempt: 99,
    paymentId: 'pay_x',
    amountMinor: 20000,
    currency: 'CNY',
    failureCode: 'X',
    at: new Date().toISOString(),
  });
  const send = (body: string, headers: Record<string, string>) =>
    sys.backend.app.inject({
      method: 'POST',
      url: path,
      payload: body,
      headers: { 'content-type': 'application/json', ...headers },
    }) as Promise<Injected>;

  it('refuses an unsigned, altered, stale or replayed message with 401', async () => {
    const orderId = await createOrder(sys);
    const body = JSON.stringify(message(orderId, 'msg_sig_1'));
    problem(await send(body, {}), 401, 'SIGNATURE_INVALID');
    const headers = signRequest(sys.secrets.serviceSecret, 'POST', path, body, new Date(), 'nonce-altered-0001');
    problem(await send(body.replace('99', '98'), headers), 401, 'SIGNATURE_INVALID');
    const stale = signRequest(
      sys.secrets.serviceSecret,
      'POST',
      path,
      body,
      new Date(Date.now() - 10 * 60_000),
      'nonce-stale-00001',
    );
    problem(await send(body, stale), 401, 'SIGNATURE_INVALID');
    const good = signRequest(sys.secrets.serviceSecret, 'POST', path, body, new Date(), 'nonce-replay-0001');
    assert.equal((await send(body, good)).statusCode, 200);
    problem(await send(body, good), 401, 'SIGNATURE_REPLAYED');
  });
  it('applies a message id once and answers a repeat with the first result', async () => {
    const orderId = await createOrder(sys);
    const body = JSON.stringify(message(orderId, 'msg_dup_1'));
    const first = await send(
      body,
      signRequest(sys.secrets.serviceSecret, 'POST', path, body, new Date(), 'nonce-dup-000001'),
    );
    const second = await send(
      body,
      signRequest(sys.secrets.serviceSecret, 'POST', path, body, new Date(), 'nonce-dup-000002'),
    );
    assert.deepEqual(first.json(), { result: 'ignored', duplicate: false });
    assert.deepEqual(second.json(), { result: 'ignored', duplicate: true });
  });
});

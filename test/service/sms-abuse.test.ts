import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createOrder, latestCode, orderStatus } from '../support/flows.ts';
import { testSystem, type TestSystem } from '../support/system.ts';

let sys: TestSystem;
before(async () => {
  sys = await testSystem({ TVPAY_SMS_DAILY_BUDGET: '3', TVPAY_LIMIT_PAYER_PER_PREFIX: '2' });
});
after(() => sys.close());

describe('defences against SMS abuse', () => {
  it('refuses a third number of the same prefix in a window with RATE_LIMITED', async () => {
    const orderId = await createOrder(sys, 'kids-app');
    for (const phone of ['13600136000', '13600136001']) assert.equal((await sys.tv('POST', `/v1/orders/${orderId}/payer`, { phone })).statusCode, 202);
    const res = await sys.tv('POST', `/v1/orders/${orderId}/payer`, { phone: '13600136002' });
    assert.equal(res.statusCode, 429);
    assert.equal(res.json().code, 'RATE_LIMITED');
    await sys.tv('POST', `/v1/orders/${orderId}/cancel`);
  });

  it("stops new SMS payments when the day's budget is used up, with a clear problem, and lets a payment in flight finish", async () => {
    const inFlight = await createOrder(sys, 'kids-app');
    assert.equal((await sys.tv('POST', `/v1/orders/${inFlight}/payer`, { phone: '13800138000' })).statusCode, 202);
    const code = await latestCode(sys, '8613800138000');
    const refused = await sys.tv('POST', `/v1/orders/${await createOrder(sys, 'kids-app')}/payer`, { phone: '13900139000' });
    assert.equal(refused.statusCode, 429);
    assert.equal(refused.json().code, 'SMS_BUDGET_EXHAUSTED');
    assert.match(refused.json().detail, /budget/);
    assert.ok(Number(refused.headers['retry-after']) > 0);
    await sys.carrier.carrier.reply('8613800138000', code);
    await orderStatus(sys, inFlight, 'fulfilled');
  });
});

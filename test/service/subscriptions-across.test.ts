import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createOrder, latestCode, newTv, orderStatus, smsCount } from '../support/flows.ts';
import { lifted, suiteSystem, type TestSystem } from '../support/system.ts';

const A = '8613800138000';
const sys = suiteSystem({
  ...lifted(['PAYER_PER_PHONE', 'CODES_PER_PHONE']),
  TVPAY_TEST_CLOCK: '1',
  TVPAY_ORDER_TTL_SECONDS: '3600',
});

type Tv = ReturnType<TestSystem['as']>;

async function buy(tv: Tv, digits: string, productId = 'uhd-monthly') {
  const orderId = await createOrder(sys, productId, tv);
  const seen = await smsCount(sys, digits);
  assert.equal((await tv('POST', `/v1/orders/${orderId}/payer`, { phone: `+${digits}` })).statusCode, 202);
  const code = await latestCode(sys, digits, seen);
  const codeSms = (await sys.carrier.carrier.inbox(digits)).at(-1)!.text;
  await sys.carrier.carrier.reply(digits, code);
  await orderStatus(sys, orderId, 'fulfilled', tv);
  return { orderId, codeSms };
}

const subsOf = async (tv: Tv) => (await tv('GET', '/v1/subscriptions')).json();
/** Moves the test clock through its route (as an operator would) and lets every scheduler run. */
async function moveClock(ms: number) {
  const res = await sys.payAdmin('POST', '/admin/v1/test-clock', { advanceSeconds: Math.round(ms / 1000) });
  assert.equal(res.statusCode, 200, res.body);
  await sys.backend.sweep();
  await sys.payserver.sweep();
}
// The back-end's subscription rules (notices, renewals, retries, lapses, TD, cancelling) are in
// subscriptions.test.ts, on the back-end kit; these cross the services.
describe('subscriptions that renew, across the services', () => {
  it('moves time on both services through the test clock route', async () => {
    const before = Date.parse((await sys.backendAdmin('GET', '/admin/v1/test-clock')).json().now);
    await moveClock(60_000);
    const afterBackend = Date.parse((await sys.backendAdmin('GET', '/admin/v1/test-clock')).json().now);
    assert.ok(afterBackend - before >= 60_000, 'the back-end sees the payment server’s move: one clock');
    assert.equal((await sys.backendAdmin('POST', '/admin/v1/test-clock', { advanceSeconds: -5 })).statusCode, 400);
  });

  it('says in the code SMS of a renewing purchase that it renews', async () => {
    const tv = await newTv(sys, 'sub-tv');
    const { codeSms } = await buy(tv, A);
    assert.match(codeSms, /自动续费/, 'the code SMS says it renews');
  });

  it('on the checkout page, renews only when the payer ticks the agreement there; otherwise it is one period', async () => {
    const unbound = '8613600136000';
    for (const [name, agree] of [
      ['page-no', false],
      ['page-yes', true],
    ] as const) {
      const tv = await newTv(sys, name);
      const orderId = await createOrder(sys, 'uhd-monthly', tv);
      const seen = await smsCount(sys, unbound);
      const order = (await tv('POST', `/v1/orders/${orderId}/payer`, { phone: `+${unbound}` })).json();
      // The link SMS (an unbound phone gets no code until it asks on the page).
      await sys.walk.nextSms(unbound, seen);
      const token =
        (await orderStatus(sys, orderId, 'awaiting_payment', tv)).payUrl?.split('/pay/')[1] ??
        order.payUrl.split('/pay/')[1];
      const page = await sys.payserverAs(undefined)('GET', `/pay/${token}`);
      assert.equal(page.statusCode, 200);
      const { checkout } = sys.payserver.services;
      const sessionId = await checkout.sendCode(token);
      const grant = await checkout.verify(token, sessionId, await latestCode(sys, unbound, seen + 1));
      await checkout.pay(token, grant, 'wallet', agree);
      await orderStatus(sys, orderId, 'fulfilled', tv);
      assert.equal(
        (await subsOf(tv)).length,
        agree ? 1 : 0,
        agree ? 'agreed: a subscription' : 'not agreed: one period only',
      );
    }
  });
});

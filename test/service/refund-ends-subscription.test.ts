import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/eventually.ts';
import { accountByPhone, createOrder, latestCode, newTv, orderStatus, smsCount } from '../support/flows.ts';
import { testSystem, type TestSystem } from '../support/system.ts';

const DAY = 24 * 3600 * 1000;
const A = '8613800138000';
let sys: TestSystem;
before(async () => {
  sys = await testSystem({
    TVPAY_TEST_CLOCK: '1',
    TVPAY_LIMIT_PAYER_PER_PHONE: '1000',
    TVPAY_LIMIT_CODES_PER_PHONE: '1000',
    TVPAY_ORDER_TTL_SECONDS: '3600',
  });
});
after(() => sys.close());

type Tv = ReturnType<TestSystem['as']>;

/** A renewing purchase confirmed by the code SMS (the consent to its renewals), fulfilled. */
async function buyRenewing(tv: Tv) {
  const orderId = await createOrder(sys, 'uhd-monthly', tv);
  const seen = await smsCount(sys, A);
  assert.equal((await tv('POST', `/v1/orders/${orderId}/payer`, { phone: `+${A}` })).statusCode, 202);
  await sys.carrier.carrier.reply(A, await latestCode(sys, A, seen));
  await orderStatus(sys, orderId, 'fulfilled', tv);
  const [sub] = (await tv('GET', '/v1/subscriptions')).json();
  assert.equal(sub.status, 'active');
  return { orderId, sub };
}

async function refund(orderId: string, amountMinor?: number) {
  const res = await sys.backendAdmin('POST', `/admin/v1/orders/${orderId}/refunds`, {
    reason: 'asked by the viewer',
    ...(amountMinor === undefined ? {} : { amountMinor }),
  });
  assert.equal(res.statusCode, 201, res.body);
}

/** Moves the test clock (both services) and lets the schedulers and the outboxes run. */
async function moveClock(ms: number) {
  const res = await sys.payAdmin('POST', '/admin/v1/test-clock', { advanceSeconds: Math.round(ms / 1000) });
  assert.equal(res.statusCode, 200, res.body);
  await sys.backend.sweep();
  await sys.payserver.sweep();
  await sys.backend.drain();
  await sys.payserver.drain();
}

describe('a refund of a renewing purchase', () => {
  it('in full, cancels its subscription and tells the payer; a month on nothing is charged', async () => {
    const tv = await newTv(sys, 'refund-sub-full');
    const { orderId, sub } = await buyRenewing(tv);
    const seen = await smsCount(sys, A);
    await refund(orderId);
    await orderStatus(sys, orderId, 'refunded', tv);
    await eventually(async () => {
      const [now] = (await tv('GET', '/v1/subscriptions')).json();
      assert.equal(now.subscriptionId, sub.subscriptionId);
      assert.equal(now.status, 'cancelled');
    });
    await eventually(async () => {
      const texts = (await sys.carrier.carrier.inbox(A)).slice(seen).map((m) => m.text);
      assert.ok(
        texts.some((t) => /自动续费/.test(t) && /退款/.test(t)),
        `the payer is told: ${JSON.stringify(texts)}`,
      );
    });
    const wallet = (await accountByPhone(sys, `+${A}`)).wallet.balanceMinor;
    await moveClock(31 * DAY);
    await moveClock(60_000);
    assert.equal((await accountByPhone(sys, `+${A}`)).wallet.balanceMinor, wallet, 'no renewal was charged');
    const renewals = (await sys.backendAdmin('GET', '/admin/v1/orders?accountId=acct-refund-sub-full&limit=50'))
      .json()
      .items.filter((o: { channel: string }) => o.channel === 'renewal');
    assert.deepEqual(renewals, [], 'no renewal order');
  });

  it('in part, leaves its subscription active', async () => {
    const tv = await newTv(sys, 'refund-sub-part');
    const { orderId, sub } = await buyRenewing(tv);
    await refund(orderId, 1000);
    await eventually(async () =>
      assert.equal((await sys.backendAdmin('GET', `/admin/v1/orders/${orderId}`)).json().refundedMinor, 1000),
    );
    const [now] = (await tv('GET', '/v1/subscriptions')).json();
    assert.equal(now.subscriptionId, sub.subscriptionId);
    assert.equal(now.status, 'active');
  });
});

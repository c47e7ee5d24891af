import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { backendAlone, BOUND, type BackendAlone } from '../support/backend-alone.ts';
import { eventually } from '../support/eventually.ts';

// The back-end's rule, on the back-end alone with a fake payment server: a full refund ends the subscription.

const DAY = 24 * 3600 * 1000;

const backend = (t: TestContext) => backendAlone(t, { TVPAY_TEST_CLOCK: '1', TVPAY_ORDER_TTL_SECONDS: '3600' });

/** A renewing purchase confirmed by the code SMS (the consent to its renewals), fulfilled. */
async function buyRenewing(k: BackendAlone, name: string) {
  const { orderId, tv } = await k.paidOrder('uhd-monthly', { name });
  const [sub] = (await tv('GET', '/v1/subscriptions')).json();
  assert.equal(sub.status, 'active');
  return { orderId, sub, tv };
}

async function refund(k: BackendAlone, orderId: string, amountMinor?: number) {
  const res = await k.backendAdmin('POST', `/admin/v1/orders/${orderId}/refunds`, {
    reason: 'asked by the viewer',
    ...(amountMinor === undefined ? {} : { amountMinor }),
  });
  assert.equal(res.statusCode, 201, res.body);
}

/** Moves the test clock through its route and lets the schedulers, the outbox and the provider's answers run. */
async function moveClock(k: BackendAlone, ms: number) {
  const res = await k.backendAdmin('POST', '/admin/v1/test-clock', { advanceSeconds: Math.round(ms / 1000) });
  assert.equal(res.statusCode, 200, res.body);
  await k.backend.sweep();
  await k.settle();
}

describe('a refund of a renewing purchase', () => {
  it('in full, cancels its subscription and tells the payer; a month on nothing is charged', async (t) => {
    const k = await backend(t);
    const { orderId, sub, tv } = await buyRenewing(k, 'refund-sub-full');
    const seen = k.smsTo(BOUND).length;
    await refund(k, orderId);
    await k.until(orderId, 'refunded', tv);
    await eventually(async () => {
      const [now] = (await tv('GET', '/v1/subscriptions')).json();
      assert.equal(now.subscriptionId, sub.subscriptionId);
      assert.equal(now.status, 'cancelled');
    });
    await eventually(async () => {
      const texts = k.smsTo(BOUND).slice(seen);
      assert.ok(
        texts.some((t) => /自动续费/.test(t) && /退款/.test(t)),
        `the payer is told: ${JSON.stringify(texts)}`,
      );
    });
    const wallet = k.provider.wallets.get(BOUND);
    await moveClock(k, 31 * DAY);
    await moveClock(k, 60_000);
    assert.equal(k.provider.wallets.get(BOUND), wallet, 'no renewal was charged');
    assert.deepEqual(k.provider.renewals, [], 'the payment server was asked for no renewal');
    const renewals = (await k.backendAdmin('GET', '/admin/v1/orders?accountId=acct-refund-sub-full&limit=50'))
      .json()
      .items.filter((o: { channel: string }) => o.channel === 'renewal');
    assert.deepEqual(renewals, [], 'no renewal order');
  });

  it('in part, leaves its subscription active', async (t) => {
    const k = await backend(t);
    const { orderId, sub, tv } = await buyRenewing(k, 'refund-sub-part');
    await refund(k, orderId, 1000);
    await eventually(async () =>
      assert.equal((await k.backendAdmin('GET', `/admin/v1/orders/${orderId}`)).json().refundedMinor, 1000),
    );
    const [now] = (await tv('GET', '/v1/subscriptions')).json();
    assert.equal(now.subscriptionId, sub.subscriptionId);
    assert.equal(now.status, 'active');
  });
});

import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { backendAlone, BOUND, type BackendAlone } from '../support/backend-alone.ts';
import { eventually } from '../support/eventually.ts';
import { webhookReceiver } from '../support/webhook-receiver.ts';

// The back-end's subscription rules, on the back-end alone with a fake payment server. What crosses the
// services (one test clock for both, the checkout page's agreement, the code SMS) is in subscriptions-across.

const DAY = 24 * 3600 * 1000;

/** The back-end alone on the test clock, with a receiver of the subscription webhooks (signed). */
async function backend(t: TestContext) {
  const rx = await webhookReceiver();
  t.after(() => rx.close());
  const k = await backendAlone(t, {
    TVPAY_WEBHOOK_ALLOW_PRIVATE: '1', // the receiver listens on 127.0.0.1
    TVPAY_TEST_CLOCK: '1',
    TVPAY_ORDER_TTL_SECONDS: '3600',
  });
  const hook = await k.backendAdmin('POST', '/admin/v1/webhooks', {
    url: rx.url,
    events: [
      'subscription.created',
      'subscription.renewed',
      'subscription.renewal_failed',
      'subscription.cancelled',
      'subscription.lapsed',
    ],
  });
  rx.setSecret(hook.json().secret);
  /** The events the receiver took for a subscription, once each: delivery is at least once, receivers deduplicate by event id. */
  const hooksOf = (subscriptionId: string) => {
    const byId = new Map<string, string>();
    for (const r of rx.received.filter((x) => x.json.data.subscriptionId === subscriptionId)) {
      assert.equal(r.signed, true);
      byId.set(r.id, r.type);
    }
    return [...byId.values()];
  };
  return Object.assign(k, { hooksOf });
}

type Tv = BackendAlone['tv'];
const subsOf = async (tv: Tv) => (await tv('GET', '/v1/subscriptions')).json();
const clockNow = (k: BackendAlone) =>
  k.backendAdmin('GET', '/admin/v1/test-clock').then((r) => Date.parse(r.json().now));

/** Moves the test clock through its route (as an operator would) and lets every scheduler run. */
async function moveClock(k: BackendAlone, ms: number) {
  const res = await k.backendAdmin('POST', '/admin/v1/test-clock', { advanceSeconds: Math.round(ms / 1000) });
  assert.equal(res.statusCode, 200, res.body);
  await k.backend.sweep();
  await k.settle();
}
const newSms = (k: BackendAlone, phone: string, seen: number, pattern: RegExp) =>
  eventually(async () => {
    const texts = k.smsTo(phone).slice(seen);
    const hit = texts.find((t) => pattern.test(t));
    assert.ok(hit, `no SMS like ${pattern} among ${JSON.stringify(texts)}`);
    return hit!;
  });

describe('subscriptions that renew', () => {
  it('creates one subscription from a renewing purchase confirmed by code, and extends it when bought again', async (t) => {
    const k = await backend(t);
    const tv = await k.newTv('sub-tv');
    const products = (await tv('GET', '/v1/products')).json();
    assert.equal(products.find((p: { productId: string }) => p.productId === 'uhd-monthly').renews, true);
    const { orderId } = await buyOn(k, tv);
    const start = k.provider.startOf(orderId)!;
    assert.equal(start.renewsEveryDays, 30, 'the payment server is told it renews (its code SMS says so)');
    const [sub] = await subsOf(tv);
    assert.equal(sub.status, 'active');
    assert.equal(sub.amountMinor, 3000);
    assert.equal(sub.payerPhoneMasked, '+86 138****8000');
    const ent = (await tv('GET', '/v1/entitlements')).json().find((e: { service: string }) => e.service === 'uhd');
    assert.equal(sub.currentPeriodEnd, ent.validUntil);
    assert.equal(sub.nextChargeAt, sub.currentPeriodEnd);
    assert.equal(
      (await k.backendAdmin('GET', `/admin/v1/orders/${orderId}`)).json().subscriptionId,
      sub.subscriptionId,
    );
    await buyOn(k, tv);
    const again = await subsOf(tv);
    assert.equal(again.length, 1, 'no second subscription');
    assert.equal(Date.parse(again[0].currentPeriodEnd) - Date.parse(sub.currentPeriodEnd), 30 * DAY);
  });

  it('texts a notice before the renewal, charges the wallet at the period end without a code, and is cancelled by TD', async (t) => {
    const k = await backend(t);
    const tv = await k.newTv('renew-tv');
    await buyOn(k, tv);
    const [sub] = await subsOf(tv);
    const wallet = k.provider.wallets.get(BOUND)!;
    // The price goes up before the notice: the notice says so, and the renewal is charged the new price.
    const uhd = {
      title: '4K会员连续包月',
      amountMinor: 3200,
      currency: 'CNY',
      service: 'uhd',
      durationDays: 30,
      renews: true,
    };
    assert.equal((await k.backendAdmin('PUT', '/admin/v1/products/uhd-monthly', uhd)).statusCode, 200);
    let seen = k.smsTo(BOUND).length;
    await moveClock(k, Date.parse(sub.currentPeriodEnd) - (await clockNow(k)) - 4 * DAY);
    const notice = await newSms(k, BOUND, seen, /自动续费32\.00元/);
    assert.match(notice, /价格由30\.00元调整为32\.00元/);
    assert.match(notice, /回复TD取消/);
    assert.match(notice, /\d{4}年\d{1,2}月\d{1,2}日/);
    await moveClock(k, 4 * DAY + 1000);
    await eventually(
      async () => assert.notEqual((await subsOf(tv))[0].currentPeriodEnd, sub.currentPeriodEnd, 'renewed'),
      15_000,
    );
    const [renewed] = await subsOf(tv);
    assert.equal(Date.parse(renewed.currentPeriodEnd) - Date.parse(sub.currentPeriodEnd) >= 30 * DAY - 60_000, true);
    // The payer's receipt of the renewal is the payment server's (test-clock.test.ts reads it).
    assert.deepEqual(
      k.provider.renewals.map((r) => [r.phone, r.amountMinor]),
      [[BOUND, 3200]],
      'the payment server was asked once, for the new price',
    );
    assert.equal(k.provider.wallets.get(BOUND), wallet - 3200, 'charged the new price from the wallet once');
    assert.equal(renewed.amountMinor, 3200);
    const renewals = (await k.backendAdmin('GET', `/admin/v1/orders?accountId=acct-renew-tv&status=fulfilled`))
      .json()
      .items.filter((o: { channel: string }) => o.channel === 'renewal');
    assert.equal(renewals.length, 1, 'the renewal is an order of its own');
    assert.equal(renewals[0].subscriptionId, sub.subscriptionId);

    seen = k.smsTo(BOUND).length;
    assert.equal(await k.cancelByPhone(BOUND), 1);
    await newSms(k, BOUND, seen, /已为您取消/);
    await eventually(async () => assert.equal((await subsOf(tv))[0].status, 'cancelled'));
    const cancelled = (await subsOf(tv))[0];
    assert.ok(cancelled.cancelledAt, 'cancelled.cancelledAt');
    assert.equal(cancelled.nextChargeAt, null);
    const ent = (await tv('GET', '/v1/entitlements')).json().find((e: { service: string }) => e.service === 'uhd');
    assert.equal(ent.validUntil, cancelled.currentPeriodEnd, 'the period paid for is kept');
    seen = k.smsTo(BOUND).length;
    assert.equal(await k.cancelByPhone(BOUND), 0);
    await newSms(k, BOUND, seen, /没有需要取消/);
    await eventually(() =>
      assert.deepEqual(k.hooksOf(sub.subscriptionId).sort(), [
        'subscription.cancelled',
        'subscription.created',
        'subscription.renewed',
      ]),
    );
  });

  it('retries a renewal that cannot be paid after 1 and 3 days, then lapses, while the entitlement ends on time', async (t) => {
    const k = await backend(t);
    const phone = '+8613500135000';
    k.provider.bind(phone, 3000);
    const tv = await k.newTv('lapse-tv');
    await buyOn(k, tv, phone);
    const [sub] = await subsOf(tv);
    let seen = k.smsTo(phone).length;
    await moveClock(k, Date.parse(sub.currentPeriodEnd) - (await clockNow(k)) + 1000);
    await newSms(k, phone, seen, /未能扣款.*再试/);
    const first = (await subsOf(tv))[0];
    assert.equal(first.status, 'active');
    assert.equal(first.nextChargeAt, new Date(Date.parse(sub.currentPeriodEnd) + DAY).toISOString());
    const ent = (await tv('GET', '/v1/entitlements')).json().find((e: { service: string }) => e.service === 'uhd');
    assert.equal(ent.validUntil, sub.currentPeriodEnd, 'the entitlement ends at the period end');
    seen = k.smsTo(phone).length;
    await moveClock(k, DAY);
    await eventually(
      async () =>
        assert.equal(
          (await subsOf(tv))[0].nextChargeAt,
          new Date(Date.parse(sub.currentPeriodEnd) + 3 * DAY).toISOString(),
        ),
      15_000,
    );
    await moveClock(k, 2 * DAY);
    await eventually(async () => assert.equal((await subsOf(tv))[0].status, 'lapsed'), 15_000);
    await newSms(k, phone, seen, /已停止续费/);
    assert.equal(k.provider.wallets.get(phone), 0, 'nothing was charged');
    const failed = (await k.backendAdmin('GET', '/admin/v1/orders?accountId=acct-lapse-tv&status=failed')).json().items;
    assert.equal(failed.length, 3, 'three tries, each an order of its own');
    await eventually(() =>
      assert.deepEqual(k.hooksOf(sub.subscriptionId).sort(), [
        'subscription.created',
        'subscription.lapsed',
        'subscription.renewal_failed',
        'subscription.renewal_failed',
        'subscription.renewal_failed',
      ]),
    );
  });

  it("lets a TV cancel its own subscription and not another account's, and operators find and cancel any", async (t) => {
    const k = await backend(t);
    const tv = await k.newTv('cancel-tv');
    const other = await k.newTv('other-tv');
    await buyOn(k, tv);
    const [sub] = await subsOf(tv);
    assert.equal((await other('POST', `/v1/subscriptions/${sub.subscriptionId}/cancel`)).statusCode, 404);
    const found = (await k.backendAdmin('GET', `/admin/v1/subscriptions?phone=13800138000&status=active`)).json();
    assert.ok(
      found.some((s: { subscriptionId: string }) => s.subscriptionId === sub.subscriptionId),
      'found.some((s: { subscriptionId: string }) => s.subscriptionId === sub.subscriptionId)',
    );
    const res = await tv('POST', `/v1/subscriptions/${sub.subscriptionId}/cancel`);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().status, 'cancelled');
    assert.equal((await k.backendAdmin('POST', '/admin/v1/subscriptions/sub_nope/cancel')).statusCode, 404);
  });
});

/** A renewing product bought on a given TV and paid from the phone's wallet (the code confirmed: consent). */
async function buyOn(k: BackendAlone, tv: Tv, phone = BOUND, productId = 'uhd-monthly') {
  const orderId = await k.order(productId, tv);
  const res = await tv('POST', `/v1/orders/${orderId}/payer`, { phone });
  assert.equal(res.statusCode, 202, res.body);
  await k.started(orderId);
  await k.provider.complete(orderId);
  await k.until(orderId, 'fulfilled', tv);
  return { orderId };
}

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/eventually.ts';
import { accountByPhone, createOrder, latestCode, newTv, orderStatus, smsCount } from '../support/flows.ts';
import { testSystem, type TestSystem } from '../support/system.ts';
import { webhookReceiver } from '../support/webhook-receiver.ts';

const DAY = 24 * 3600 * 1000;
const A = '8613800138000';
let sys: TestSystem;
let rx: Awaited<ReturnType<typeof webhookReceiver>>;
before(async () => {
  sys = await testSystem({
    TVPAY_WEBHOOK_ALLOW_PRIVATE: '1', // the receiver listens on 127.0.0.1
    TVPAY_TEST_CLOCK: '1',
    TVPAY_LIMIT_PAYER_PER_PHONE: '1000',
    TVPAY_LIMIT_CODES_PER_PHONE: '1000',
    TVPAY_ORDER_TTL_SECONDS: '3600',
  });
  rx = await webhookReceiver();
  const hook = await sys.backendAdmin('POST', '/admin/v1/webhooks', {
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
});
after(async () => {
  await sys.close();
  await rx.close();
});
/** The subscription webhooks of one subscription, by type, as the operator's system received them (signed). */
/** The events a receiver took for a subscription, once each: delivery is at least once (a delivery in flight when the test clock jumps a day is delivered again), and receivers deduplicate by event id. */
const hooksOf = (subscriptionId: string) => {
  const byId = new Map<string, string>();
  for (const r of rx.received.filter((x) => x.json.data.subscriptionId === subscriptionId)) {
    assert.equal(r.signed, true);
    byId.set(r.id, r.type);
  }
  return [...byId.values()];
};

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
const newSms = async (digits: string, seen: number, pattern: RegExp) =>
  eventually(async () => {
    const texts = (await sys.carrier.carrier.inbox(digits)).slice(seen).map((m) => m.text);
    const hit = texts.find((t) => pattern.test(t));
    assert.ok(hit, `no SMS like ${pattern} among ${JSON.stringify(texts)}`);
    return hit!;
  });

describe('subscriptions that renew', () => {
  it('moves time on both services through the test clock route', async () => {
    const before = Date.parse((await sys.backendAdmin('GET', '/admin/v1/test-clock')).json().now);
    await moveClock(60_000);
    const afterBackend = Date.parse((await sys.backendAdmin('GET', '/admin/v1/test-clock')).json().now);
    assert.ok(afterBackend - before >= 60_000, 'the back-end sees the payment server’s move: one clock');
    assert.equal((await sys.backendAdmin('POST', '/admin/v1/test-clock', { advanceSeconds: -5 })).statusCode, 400);
  });

  it('creates one subscription from a renewing purchase confirmed by code, and extends it when bought again', async () => {
    const tv = await newTv(sys, 'sub-tv');
    const products = (await tv('GET', '/v1/products')).json();
    assert.equal(products.find((p: { productId: string }) => p.productId === 'uhd-monthly').renews, true);
    const { orderId, codeSms } = await buy(tv, A);
    assert.match(codeSms, /自动续费/, 'the code SMS says it renews');
    const [sub] = await subsOf(tv);
    assert.equal(sub.status, 'active');
    assert.equal(sub.amountMinor, 3000);
    assert.equal(sub.payerPhoneMasked, '+86 138****8000');
    const ent = (await tv('GET', '/v1/entitlements')).json().find((e: { service: string }) => e.service === 'uhd');
    assert.equal(sub.currentPeriodEnd, ent.validUntil);
    assert.equal(sub.nextChargeAt, sub.currentPeriodEnd);
    assert.equal(
      (await sys.backendAdmin('GET', `/admin/v1/orders/${orderId}`)).json().subscriptionId,
      sub.subscriptionId,
    );
    await buy(tv, A);
    const again = await subsOf(tv);
    assert.equal(again.length, 1, 'no second subscription');
    assert.equal(Date.parse(again[0].currentPeriodEnd) - Date.parse(sub.currentPeriodEnd), 30 * DAY);
  });

  it('texts a notice before the renewal, charges the wallet at the period end without a code, and is cancelled by TD', async () => {
    const tv = await newTv(sys, 'renew-tv');
    await buy(tv, A);
    const [sub] = await subsOf(tv);
    const wallet = (await accountByPhone(sys, `+${A}`)).wallet.balanceMinor;
    // The price goes up before the notice: the notice says so, and the renewal is charged the new price.
    const uhd = {
      title: '4K会员连续包月',
      amountMinor: 3200,
      currency: 'CNY',
      service: 'uhd',
      durationDays: 30,
      renews: true,
    };
    assert.equal((await sys.backendAdmin('PUT', '/admin/v1/products/uhd-monthly', uhd)).statusCode, 200);
    let seen = await smsCount(sys, A);
    await moveClock(
      Date.parse(sub.currentPeriodEnd) -
        Date.parse((await sys.backendAdmin('GET', '/admin/v1/test-clock')).json().now) -
        4 * DAY,
    );
    const notice = await newSms(A, seen, /自动续费32\.00元/);
    assert.match(notice, /价格由30\.00元调整为32\.00元/);
    assert.match(notice, /回复TD取消/);
    assert.match(notice, /\d{4}年\d{1,2}月\d{1,2}日/);
    seen = await smsCount(sys, A);
    await moveClock(4 * DAY + 1000);
    await eventually(
      async () => assert.notEqual((await subsOf(tv))[0].currentPeriodEnd, sub.currentPeriodEnd, 'renewed'),
      15_000,
    );
    const [renewed] = await subsOf(tv);
    assert.equal(Date.parse(renewed.currentPeriodEnd) - Date.parse(sub.currentPeriodEnd) >= 30 * DAY - 60_000, true);
    const all = (await sys.backendAdmin('GET', '/admin/v1/orders?phone=13800138000&limit=50'))
      .json()
      .items.filter((o: { channel: string }) => o.channel === 'renewal');
    assert.equal(
      (await accountByPhone(sys, `+${A}`)).wallet.balanceMinor,
      wallet - 3200,
      `charged the new price from the wallet once: ${JSON.stringify(all.map((o: { accountId: string; status: string }) => [o.accountId, o.status]))}`,
    );
    assert.equal(renewed.amountMinor, 3200);
    await newSms(A, seen, /已自动续费/);
    const renewals = (await sys.backendAdmin('GET', `/admin/v1/orders?accountId=acct-renew-tv&status=fulfilled`))
      .json()
      .items.filter((o: { channel: string }) => o.channel === 'renewal');
    assert.equal(renewals.length, 1, 'the renewal is an order of its own');
    assert.equal(renewals[0].subscriptionId, sub.subscriptionId);

    seen = await smsCount(sys, A);
    await sys.carrier.carrier.reply(A, 'TD');
    await newSms(A, seen, /已为您取消/);
    await eventually(async () => assert.equal((await subsOf(tv))[0].status, 'cancelled'));
    const cancelled = (await subsOf(tv))[0];
    assert.ok(cancelled.cancelledAt);
    assert.equal(cancelled.nextChargeAt, null);
    const ent = (await tv('GET', '/v1/entitlements')).json().find((e: { service: string }) => e.service === 'uhd');
    assert.equal(ent.validUntil, cancelled.currentPeriodEnd, 'the period paid for is kept');
    seen = await smsCount(sys, A);
    await sys.carrier.carrier.reply(A, '退订');
    await newSms(A, seen, /没有需要取消/);
    await eventually(() =>
      assert.deepEqual(hooksOf(sub.subscriptionId).sort(), [
        'subscription.cancelled',
        'subscription.created',
        'subscription.renewed',
      ]),
    );
    uhd.amountMinor = 3000;
    await sys.backendAdmin('PUT', '/admin/v1/products/uhd-monthly', uhd);
  });

  it('retries a renewal that cannot be paid after 1 and 3 days, then lapses, while the entitlement ends on time', async () => {
    const digits = '8613500135000';
    assert.equal(
      (
        await sys.payAdmin('POST', '/admin/v1/accounts', {
          phone: `+${digits}`,
          currency: 'CNY',
          walletMinor: 3000,
          quickPay: true,
        })
      ).statusCode,
      201,
    );
    const tv = await newTv(sys, 'lapse-tv');
    await buy(tv, digits);
    const [sub] = await subsOf(tv);
    const now = () => sys.backendAdmin('GET', '/admin/v1/test-clock').then((r) => Date.parse(r.json().now));
    let seen = await smsCount(sys, digits);
    await moveClock(Date.parse(sub.currentPeriodEnd) - (await now()) + 1000);
    await newSms(digits, seen, /未能扣款.*再试/);
    const first = (await subsOf(tv))[0];
    assert.equal(first.status, 'active');
    assert.equal(first.nextChargeAt, new Date(Date.parse(sub.currentPeriodEnd) + DAY).toISOString());
    const ent = (await tv('GET', '/v1/entitlements')).json().find((e: { service: string }) => e.service === 'uhd');
    assert.equal(ent.validUntil, sub.currentPeriodEnd, 'the entitlement ends at the period end');
    seen = await smsCount(sys, digits);
    await moveClock(DAY);
    await eventually(
      async () =>
        assert.equal(
          (await subsOf(tv))[0].nextChargeAt,
          new Date(Date.parse(sub.currentPeriodEnd) + 3 * DAY).toISOString(),
        ),
      15_000,
    );
    await moveClock(2 * DAY);
    await eventually(async () => assert.equal((await subsOf(tv))[0].status, 'lapsed'), 15_000);
    await newSms(digits, seen, /已停止续费/);
    assert.equal((await accountByPhone(sys, `+${digits}`)).wallet.balanceMinor, 0, 'nothing was charged');
    const failed = (await sys.backendAdmin('GET', '/admin/v1/orders?accountId=acct-lapse-tv&status=failed')).json()
      .items;
    assert.equal(failed.length, 3, 'three tries, each an order of its own');
    await eventually(() =>
      assert.deepEqual(hooksOf(sub.subscriptionId).sort(), [
        'subscription.created',
        'subscription.lapsed',
        'subscription.renewal_failed',
        'subscription.renewal_failed',
        'subscription.renewal_failed',
      ]),
    );
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
      await latestCode(sys, unbound, seen).catch(() => undefined);
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

  it("lets a TV cancel its own subscription and not another account's, and operators find and cancel any", async () => {
    const tv = await newTv(sys, 'cancel-tv');
    const other = await newTv(sys, 'other-tv');
    await buy(tv, A);
    const [sub] = await subsOf(tv);
    assert.equal((await other('POST', `/v1/subscriptions/${sub.subscriptionId}/cancel`)).statusCode, 404);
    const found = (await sys.backendAdmin('GET', `/admin/v1/subscriptions?phone=13800138000&status=active`)).json();
    assert.ok(found.some((s: { subscriptionId: string }) => s.subscriptionId === sub.subscriptionId));
    const res = await tv('POST', `/v1/subscriptions/${sub.subscriptionId}/cancel`);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().status, 'cancelled');
    assert.equal((await sys.backendAdmin('POST', '/admin/v1/subscriptions/sub_nope/cancel')).statusCode, 404);
  });
});

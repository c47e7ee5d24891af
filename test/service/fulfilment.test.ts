import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/eventually.ts';
import { accountByPhone, createOrder, latestCode, newTv, orderStatus, smsCount } from '../support/flows.ts';
import { testSystem, type TestSystem } from '../support/system.ts';
import { webhookReceiver } from '../support/webhook-receiver.ts';

const A = '8613800138000';
const SECRET = 'fulfilment-secret-for-tests';
let sys: TestSystem;
let rx: Awaited<ReturnType<typeof webhookReceiver>>;
before(async () => {
  rx = await webhookReceiver();
  rx.setSecret(SECRET);
  sys = await testSystem({
    TVPAY_FULFILMENT_URL: rx.url,
    TVPAY_FULFILMENT_SECRET: SECRET,
    TVPAY_FULFILMENT_DEADLINE_SECONDS: '120',
    TVPAY_LIMIT_PAYER_PER_PHONE: '1000',
    TVPAY_LIMIT_CODES_PER_PHONE: '1000',
  });
});
after(async () => {
  await sys.close();
  await rx.close();
});

async function pay(productId = 'vip-month') {
  const tv = await newTv(sys, `ff-${Math.random().toString(36).slice(2, 8)}`);
  const orderId = await createOrder(sys, productId, tv);
  const seen = await smsCount(sys, A);
  await tv('POST', `/v1/orders/${orderId}/payer`, { phone: A });
  await sys.carrier.carrier.reply(A, await latestCode(sys, A, seen));
  await orderStatus(sys, orderId, 'paid', tv);
  return { orderId, tv };
}

/**
 * Moves time on in steps, as a running system would live through it, so each due retry runs. Each step
 * first waits for the deliveries in flight: an attempt whose answer arrives after the clock moved would
 * schedule its retry from the moved clock, a step too late (on a loaded machine the order stayed `paid`).
 */
async function liveThrough(ms: number, step = 15_000) {
  for (let done = 0; done < ms; done += step) {
    await sys.backend.drain();
    await sys.advance(step);
    await new Promise((r) => setTimeout(r, 60));
    await sys.backend.drain();
  }
}

describe("provisioning in the operator's system", () => {
  it('fulfils an order only when the operator answers 2xx to its signed order.paid, retrying until then', async () => {
    rx.answer(503);
    // The 503 reaches the back-end only after the test has seen the request arrive, as on a loaded machine.
    rx.delay(400);
    const { orderId, tv } = await pay();
    const first = await eventually(() => {
      const got = rx.ofType('order.paid').find((r) => r.json.data.orderId === orderId);
      assert.ok(got, 'order.paid reaches the operator');
      return got;
    });
    assert.equal(first.signed, true, 'signed with TVPAY_FULFILMENT_SECRET');
    assert.equal((await tv('GET', `/v1/orders/${orderId}`)).json().status, 'paid', 'not fulfilled on a 503');
    assert.equal((await tv('GET', '/v1/entitlements')).json().length, 0, 'no entitlement yet');
    rx.answer(200);
    await liveThrough(15_000);
    const order = await orderStatus(sys, orderId, 'fulfilled', tv);
    assert.ok(order.fulfilledAt);
    const [ent] = (await tv('GET', '/v1/entitlements')).json();
    assert.equal(ent.orderId, orderId);
    assert.equal(ent.validFrom, order.fulfilledAt, "the entitlement starts when the operator's system answered");
  });

  it('refunds in full, texts the payer and tells the TV when the deadline passes without a 2xx; a late 2xx changes nothing', async () => {
    rx.answer(500);
    const before = await accountByPhone(sys, `+${A}`);
    const { orderId, tv } = await pay();
    const charged = await accountByPhone(sys, `+${A}`);
    assert.equal(charged.wallet.balanceMinor, before.wallet.balanceMinor - 2500);
    const seen = await smsCount(sys, A);
    await liveThrough(135_000);
    const order = await orderStatus(sys, orderId, 'refunded', tv);
    assert.equal(order.failureCode, 'FULFILMENT_FAILED');
    assert.equal(order.refundedMinor, 2500);
    assert.equal((await accountByPhone(sys, `+${A}`)).wallet.balanceMinor, before.wallet.balanceMinor);
    await eventually(async () => {
      const inbox = await sys.carrier.carrier.inbox(A);
      assert.ok(
        inbox.slice(seen).some((m) => /退款/.test(m.text)),
        'the payer is told of the refund',
      );
    });
    const timeline = (await sys.backendAdmin('GET', `/admin/v1/orders/${orderId}/timeline`)).json();
    assert.ok(
      timeline.some(
        (e: { kind: string; failureCode?: string }) => e.kind === 'fulfilment' && e.failureCode === 'FULFILMENT_FAILED',
      ),
    );
    assert.ok(timeline.some((e: { kind: string; summary: string }) => e.kind === 'status' && e.summary === 'refunded'));
    // The operator's system comes back and a resend reaches it: the refunded order stays refunded.
    rx.answer(200);
    const [delivery] = (await sys.backendAdmin('GET', '/admin/v1/webhooks/fulfilment/deliveries')).json();
    assert.equal(delivery.status, 'failed');
    assert.equal(
      (await sys.backendAdmin('POST', `/admin/v1/webhooks/fulfilment/deliveries/${delivery.deliveryId}/resend`))
        .statusCode,
      202,
    );
    await eventually(async () =>
      assert.equal(
        (await sys.backendAdmin('GET', '/admin/v1/webhooks/fulfilment/deliveries')).json()[0].status,
        'delivered',
      ),
    );
    assert.equal((await tv('GET', `/v1/orders/${orderId}`)).json().status, 'refunded');
    assert.equal(
      (await tv('GET', '/v1/entitlements')).json().find((e: { orderId: string }) => e.orderId === orderId),
      undefined,
    );
  });
});

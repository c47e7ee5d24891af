import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventually } from '../support/eventually.ts';
import { accountByPhone, createOrder, latestCode, newTv, orderStatus, smsCount, payByReply } from '../support/flows.ts';
import { lifted, suiteSystem } from '../support/system.ts';

const A = '8613800138000';
const B = '8613900139000';
const sys = suiteSystem(lifted(['PAYER_PER_PHONE', 'CODES_PER_PHONE', 'CODE_CHECKS_PER_PHONE']));

/** Buys a product on a TV of its own with a bound phone and waits until it is fulfilled. */
async function paidOrder(productId: string, digits = A, name = `tv-${Math.random().toString(36).slice(2, 8)}`) {
  const tv = await newTv(sys, name);
  const orderId = await createOrder(sys, productId, tv);
  await payByReply(sys, orderId, digits, tv);
  return { orderId, tv, accountId: `acct-${name}` };
}

const refund = (orderId: string, body: unknown, key?: string) =>
  sys.backendAdmin('POST', `/admin/v1/orders/${orderId}/refunds`, body, key ? { 'idempotency-key': key } : {});
const refundsOf = async (orderId: string) =>
  (await sys.backendAdmin('GET', `/admin/v1/orders/${orderId}/refunds`)).json();
const settled = (orderId: string) =>
  eventually(async () => {
    const list = await refundsOf(orderId);
    assert.ok(
      list.every((r: { status: string }) => r.status !== 'pending'),
      'a refund is still pending',
    );
    return list;
  });
const ledgerSound = async () => {
  const audit = (await sys.payAdmin('GET', '/admin/v1/ledger/audit')).json();
  assert.deepEqual(audit.problems, []);
};

// The refund rules of the back-end alone (races, replays, refusals) are in refunds.test.ts, on the back-end
// kit; these are the refunds whose money, SMS and ledger are the payment server's.
describe('refunds across the services', () => {
  it('gives a whole payment back to the wallet, marks the order refunded, takes the days back and texts the payer', async () => {
    const before = await accountByPhone(sys, `+${A}`);
    const { orderId, tv } = await paidOrder('vip-month');
    const ent = (await tv('GET', '/v1/entitlements')).json().find((e: { service: string }) => e.service === 'vip');
    assert.ok(ent, 'ent');
    const seen = await smsCount(sys, A);
    const res = await refund(orderId, { reason: 'customer asked' });
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.json().amountMinor, 2500);
    assert.equal(res.json().status, 'pending');
    await settled(orderId);
    const order = await orderStatus(sys, orderId, 'refunded', tv);
    assert.equal(order.refundedMinor, 2500);
    const afterRefund = await accountByPhone(sys, `+${A}`);
    assert.equal(afterRefund.wallet.balanceMinor, before.wallet.balanceMinor, 'the wallet has all of it back');
    const entAfter = (await tv('GET', '/v1/entitlements')).json().find((e: { service: string }) => e.service === 'vip');
    assert.ok(Date.parse(entAfter.validUntil) <= Date.now() + 1000, 'the 30 days are taken back');
    const text = await eventually(async () => {
      const inbox = await sys.carrier.carrier.inbox(A);
      assert.ok(inbox.length > seen, 'no refund SMS');
      return inbox[inbox.length - 1]!.text;
    });
    assert.match(text, /退款25\.00元/);
    assert.match(text, /钱包/);
    assert.match(text, new RegExp(orderId.slice(-8)));
    await ledgerSound();
  });

  it('refunds part of a payment to the card it came from and leaves the order fulfilled', async () => {
    const before = await accountByPhone(sys, `+${B}`);
    const { orderId, tv } = await paidOrder('vip-month', B);
    const charged = await accountByPhone(sys, `+${B}`);
    assert.equal(charged.card!.balanceMinor, before.card!.balanceMinor - 2500, 'the card paid (the wallet was short)');
    assert.equal((await refund(orderId, { amountMinor: 1000, reason: 'partly unhappy' })).statusCode, 201);
    await settled(orderId);
    const order = (await tv('GET', `/v1/orders/${orderId}`)).json();
    assert.equal(order.status, 'fulfilled');
    assert.equal(order.refundedMinor, 1000);
    assert.equal((await accountByPhone(sys, `+${B}`)).card!.balanceMinor, charged.card!.balanceMinor + 1000);
    const over = await refund(orderId, { amountMinor: 1501, reason: 'too much' });
    assert.equal(over.statusCode, 422, over.body);
    assert.equal(over.json().code, 'REFUND_EXCEEDS_PAYMENT');
    assert.equal(over.json().leftMinor, 1500);
    const rest = await refund(orderId, { reason: 'the rest' });
    assert.equal(rest.json().amountMinor, 1500);
    await settled(orderId);
    await orderStatus(sys, orderId, 'refunded', tv);
    assert.equal((await accountByPhone(sys, `+${B}`)).card!.balanceMinor, before.card!.balanceMinor);
    await ledgerSound();
  });

  it('lists a payment that arrived for a cancelled order as an ordinary refund of it', async () => {
    const tv = await newTv(sys, 'late-tv');
    const orderId = await createOrder(sys, 'vip-month', tv);
    const seen = await smsCount(sys, A);
    const order = (await tv('POST', `/v1/orders/${orderId}/payer`, { phone: `+${A}` })).json();
    await latestCode(sys, A, seen);
    // The TV cancels while the close to the payment server is held back; the payer pays on the page meanwhile.
    await sys.backend.worker.stop();
    await tv('POST', `/v1/orders/${orderId}/cancel`);
    const token = order.payUrl.split('/pay/')[1];
    const { checkout } = sys.payserver.services;
    const sessionId = await checkout.sendCode(token);
    const grant = await checkout.verify(token, sessionId, await latestCode(sys, A, seen + 1));
    await checkout.pay(token, grant, 'wallet', false);
    sys.backend.worker.start();
    const list = await eventually(async () => {
      const l = await refundsOf(orderId);
      assert.equal(l.length, 1, 'no refund of the late payment yet');
      return l;
    });
    assert.equal(list[0].status, 'succeeded');
    assert.equal(list[0].amountMinor, 2500);
    const admin = (await sys.backendAdmin('GET', `/admin/v1/orders/${orderId}`)).json();
    assert.equal(admin.status, 'cancelled');
    assert.equal(admin.refundedMinor, 2500);
    await ledgerSound();
  });
});

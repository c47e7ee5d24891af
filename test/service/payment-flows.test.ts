import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { smsLog } from '../../src/sms/sms-log.ts';
import { eventually } from '../support/eventually.ts';
import { accountByPhone, createOrder, latestCode, newTv, orderStatus, smsCount } from '../support/flows.ts';
import { testSystem, type TestSystem } from '../support/system.ts';

const A = '8613800138000';
const B = '8613900139000';
let sys: TestSystem;
before(async () => {
  sys = await testSystem({ TVPAY_LIMIT_PAYER_PER_PHONE: '1000', TVPAY_LIMIT_CODES_PER_PHONE: '1000' });
});
after(() => sys.close());

const payer = async (orderId: string, phone: string) => {
  const res = await sys.tv('POST', `/v1/orders/${orderId}/payer`, { phone });
  assert.equal(res.statusCode, 202, res.body);
  return res.json();
};
const reply = (digits: string, text: string) => sys.carrier.carrier.reply(digits, text);
/** The order's one outbox message of `topic` was done by its sender inline: done, never run by a worker. */
const doneInline = async (orderId: string, topic: string) => {
  const rows = await sys.backend.db.selectFrom('outbox').selectAll().where('topic', '=', topic).execute();
  const mine = rows.filter((m: { payload: string }) => JSON.parse(m.payload).orderId === orderId);
  assert.equal(mine.length, 1, `one ${topic} message`);
  assert.equal(mine[0]!.status, 'done');
  assert.equal(mine[0]!.attempts, 0, 'the outbox worker never ran it');
};
const heldOf = async (digits: string) => {
  const a = await accountByPhone(sys, `+${digits}`);
  return a.wallet.heldMinor + (a.card?.heldMinor ?? 0);
};

describe('payment flows on the payment server', () => {
  it('replaces the pending attempt when the payer is submitted again with another phone', async () => {
    const orderId = await createOrder(sys, 'vip-month');
    const seenA = await smsCount(sys, A);
    await payer(orderId, '13800138000');
    const codeA = await latestCode(sys, A, seenA);
    assert.equal(await heldOf(A), 2500);
    const seenB = await smsCount(sys, B);
    await payer(orderId, '13900139000');
    const codeB = await latestCode(sys, B, seenB);
    await eventually(async () => assert.equal(await heldOf(A), 0, 'the first phone is released'));
    assert.equal(await heldOf(B), 2500);
    await reply(A, codeA);
    assert.equal(
      (await sys.tv('GET', `/v1/orders/${orderId}`)).json().status,
      'awaiting_payment',
      'the replaced code pays nothing',
    );
    await reply(B, codeB);
    await orderStatus(sys, orderId, 'fulfilled');
    assert.equal(await heldOf(B), 0);
  });

  it('ends the pending attempt on "change number": the first code pays nothing and its hold is released', async () => {
    const orderId = await createOrder(sys, 'vip-month');
    const seenA = await smsCount(sys, A);
    const first = await payer(orderId, '13800138000');
    const codeA = await latestCode(sys, A, seenA);
    assert.equal(await heldOf(A), 2500);
    const balanceA = (await accountByPhone(sys, `+${A}`)).wallet.balanceMinor;
    const ended = await sys.tv('POST', `/v1/orders/${orderId}/payer/cancel`);
    assert.equal(ended.statusCode, 200, ended.body);
    assert.equal(ended.json().status, 'awaiting_payment', 'the order stays open for the next number');
    assert.equal(ended.json().payerPhoneMasked, null);
    assert.equal(ended.json().channel, null);
    const again = await sys.tv('POST', `/v1/orders/${orderId}/payer/cancel`);
    assert.equal(again.statusCode, 200, 'ending it again answers the same');
    assert.equal(again.json().payerPhoneMasked, null);
    await eventually(async () => assert.equal(await heldOf(A), 0, 'the first phone is released'));
    await reply(A, codeA);
    await eventually(async () => assert.ok((await smsCount(sys, A)) > seenA + 1, 'the reply is answered'));
    assert.equal((await sys.tv('GET', `/v1/orders/${orderId}`)).json().status, 'awaiting_payment');
    assert.equal((await accountByPhone(sys, `+${A}`)).wallet.balanceMinor, balanceA, 'the first code charged nothing');
    const seenB = await smsCount(sys, B);
    const second = await payer(orderId, '13900139000');
    assert.ok(
      second.payerPhoneMasked && second.payerPhoneMasked !== first.payerPhoneMasked,
      'second.payerPhoneMasked && second.payerPhoneMasked !== first.payerPhoneMasked',
    );
    await reply(B, await latestCode(sys, B, seenB));
    await orderStatus(sys, orderId, 'fulfilled');
    const late = await sys.tv('POST', `/v1/orders/${orderId}/payer/cancel`);
    assert.equal(late.statusCode, 409, 'a paid order keeps its payer');
    assert.equal(late.json().code, 'ORDER_FINAL');
  });

  it('gives one phone distinct codes for several pending payments and pays only the one replied to', async () => {
    const tv2 = await newTv(sys, 'second-tv');
    const first = await createOrder(sys, 'kids-app', tv2);
    const second = await createOrder(sys, 'vip-month');
    const seen = await smsCount(sys, A);
    assert.equal((await tv2('POST', `/v1/orders/${first}/payer`, { phone: '13800138000' })).statusCode, 202);
    const code1 = await latestCode(sys, A, seen);
    await payer(second, '13800138000');
    const code2 = await latestCode(sys, A, seen + 1);
    assert.notEqual(code1, code2);
    const before = await accountByPhone(sys, `+${A}`);
    await reply(A, code2);
    await orderStatus(sys, second, 'fulfilled');
    assert.equal((await tv2('GET', `/v1/orders/${first}`)).json().status, 'awaiting_payment');
    const afterPay = await accountByPhone(sys, `+${A}`);
    assert.equal(afterPay.wallet.balanceMinor, before.wallet.balanceMinor - 2500);
    await reply(A, code1);
    await orderStatus(sys, first, 'fulfilled', tv2);
  });

  it('pays an order once when the page payment and the SMS reply both happen', async () => {
    const before = await accountByPhone(sys, `+${A}`);
    const orderId = await createOrder(sys, 'vip-month');
    const seen = await smsCount(sys, A);
    const order = await payer(orderId, '13800138000');
    const smsCode = await latestCode(sys, A, seen);
    const token = order.payUrl.split('/pay/')[1];
    const { checkout } = sys.payserver.services;
    const sessionId = await checkout.sendCode(token);
    const possession = await latestCode(sys, A, seen + 1);
    const grant = await checkout.verify(token, sessionId, possession);
    await checkout.pay(token, grant, 'card', false);
    await orderStatus(sys, orderId, 'fulfilled');
    await reply(A, smsCode);
    const afterPay = await accountByPhone(sys, `+${A}`);
    assert.deepEqual(afterPay.wallet, before.wallet, 'the SMS hold was released, not captured');
    assert.equal(afterPay.card!.balanceMinor, before.card!.balanceMinor - 2500);
    assert.equal(afterPay.card!.heldMinor, 0);
  });

  it('starts the attempt once, inline: the outbox message that would retry it is done and was never delivered', async () => {
    const orderId = await createOrder(sys, 'kids-app');
    const seen = await smsCount(sys, A);
    const order = await payer(orderId, '13800138000');
    assert.equal(order.channel, 'sms_confirm', 'the 202 already shows the channel');
    await latestCode(sys, A, seen); // its code SMS has arrived: none is in flight to be taken for the next test's
    // Marked done with the others of its short tick, after the answer.
    await eventually(() => doneInline(orderId, 'payment.start'));
    await sys.tv('POST', `/v1/orders/${orderId}/cancel`);
  });

  it('turns a paid order on once, inline: its order.fulfil outbox message is done and was never delivered', async () => {
    const orderId = await createOrder(sys, 'kids-app');
    const seen = await smsCount(sys, A);
    await payer(orderId, '13800138000');
    await reply(A, await latestCode(sys, A, seen));
    await orderStatus(sys, orderId, 'fulfilled');
    await eventually(() => doneInline(orderId, 'order.fulfil'));
  });

  it('answers the same pre-pay sent several times at once with one payment and one hold, never an error', async () => {
    const before = await heldOf(A);
    const request = {
      orderId: `ord_race_${Date.now()}`,
      attempt: 1,
      mode: 'sms_confirm' as const,
      phone: `+${A}`,
      amountMinor: 700,
      currency: 'CNY',
      productTitle: 'Race test',
      payee: 'tvpay',
      linkToken: 'link-token-for-the-race-test',
      deviceId: 'dev_race',
      expiresAt: new Date(Date.now() + 600_000).toISOString(),
    };
    const { payments } = sys.payserver.services;
    const results = await Promise.all(Array.from({ length: 4 }, () => payments.start(request)));
    assert.deepEqual(new Set(results.map((r) => r.state)), new Set(['pending_confirmation']));
    assert.equal(new Set(results.map((r) => r.paymentId)).size, 1, 'one payment');
    assert.equal(await heldOf(A), before + 700, 'one hold');
    await payments.close(request.orderId);
    assert.equal(await heldOf(A), before);
  });

  it('records each SMS as delivered when the carrier reports it', async () => {
    const orderId = await createOrder(sys, 'kids-app');
    await payer(orderId, '13800138000');
    const db = sys.payserver.db;
    await eventually(async () => {
      const rows = await db
        .selectFrom('sms_messages')
        .selectAll()
        .where('kind', '=', 'code')
        .orderBy('created_at', 'desc')
        .execute();
      assert.equal(rows[0]!.status, 'delivered');
      assert.equal(
        await smsLog.advance(db, rows[0]!.id, 'sent', new Date()),
        false,
        'a delivery state never moves back',
      );
    });
    const listed = await sys.payAdmin('GET', '/admin/v1/sms?phone=13800138000&limit=5');
    assert.equal(listed.statusCode, 200);
    const rows = listed.json();
    assert.ok(
      rows.some((r: { kind: string; status: string }) => r.kind === 'code' && r.status === 'delivered'),
      'operators see delivery states',
    );
    assert.ok(
      rows.every((r: object) => !('text' in r)),
      'no SMS text is shown to operators',
    );
    await sys.tv('POST', `/v1/orders/${orderId}/cancel`);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { businessDate } from '../../src/lib/business-day.ts';
import { signRequest } from '../../src/lib/signing.ts';
import { eventually } from '../support/eventually.ts';
import { createOrder, newTv, payByReply } from '../support/flows.ts';
import { pgSkip } from '../support/pg.ts';
import { lifted, testSystem, type Injected, type TestSystem } from '../support/system.ts';

const A = '8613800138000';
const PATH = '/internal/v1/payment-events';
let sys: TestSystem;
let nonces = 0;

/** A signed message of the payment server's, as it would send it. */
function send(message: Record<string, unknown>): Promise<Injected> {
  const body = JSON.stringify({
    failureCode: null,
    attempt: 1,
    currency: 'CNY',
    at: new Date().toISOString(),
    ...message,
  });
  const headers = signRequest(sys.secrets.serviceSecret, 'POST', PATH, body, new Date(), `nonce-contested-${nonces++}`);
  return sys.backend.app
    .inject({ method: 'POST', url: PATH, payload: body, headers: { 'content-type': 'application/json', ...headers } })
    .then((res) => Object.assign(res, { status: res.statusCode, text: res.body }) as Injected);
}

/** An order paid through the whole flow (code SMS, reply), and its payment. */
async function paidOrder(name: string) {
  const tv = await newTv(sys, name);
  const orderId = await createOrder(sys, 'kids-app', tv);
  const order = await payByReply(sys, orderId, A, tv, A);
  const admin = (await sys.backendAdmin('GET', `/admin/v1/orders/${orderId}`)).json();
  return { tv, orderId, amountMinor: order.amountMinor as number, paymentId: admin.paymentId as string };
}

async function reconcileToday() {
  const res = await sys.backendAdmin('POST', '/admin/v1/reconciliations', {
    date: businessDate(sys.clock.now(), 'Asia/Shanghai'),
  });
  assert.equal(res.status, 200, res.text);
  return res.json() as { mismatches: Array<{ kind: string; orderId: string; paymentId: string; detail: string }> };
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  const skip = dialect === 'postgres' ? await pgSkip() : false;
  describe(`signed messages that repeat or contradict what the back-end applied, on ${dialect}`, { skip }, () => {
    before(async () => {
      sys = await testSystem(lifted(['PAYER_PER_PHONE', 'CODES_PER_PHONE']), { postgres: dialect === 'postgres' });
    });
    after(() => sys?.close());

    it('records a refund outcome the back-end never asked for instead of applying it, and a later full refund works', async () => {
      const { orderId, paymentId, amountMinor } = await paidOrder('contested-a');
      for (const refundId of ['rfd_never_asked_1', 'rfd_never_asked_2']) {
        const res = await send({
          messageId: `msg_${refundId}`,
          type: 'refund.succeeded',
          refundId,
          orderId,
          paymentId,
          amountMinor,
        });
        assert.equal(res.status, 200, res.text);
        assert.equal(res.json().result, 'ignored');
      }
      assert.equal((await sys.backendAdmin('GET', `/admin/v1/orders/${orderId}`)).json().refundedMinor, 0);
      const refund = await sys.backendAdmin('POST', `/admin/v1/orders/${orderId}/refunds`, { reason: 'full refund' });
      assert.equal(refund.status, 201, refund.text);
      const done = await eventually(async () => {
        const o = (await sys.backendAdmin('GET', `/admin/v1/orders/${orderId}`)).json();
        assert.equal(o.status, 'refunded');
        return o;
      });
      assert.equal(done.refundedMinor, amountMinor);
      const { mismatches } = await reconcileToday();
      const mine = mismatches.filter((m) => m.kind === 'refund_not_asked' && m.orderId === orderId);
      assert.equal(mine.length, 2, JSON.stringify(mismatches));
      assert.ok(
        mine.every((m) => m.paymentId === paymentId && /rfd_never_asked_[12]/.test(m.detail)),
        'mine.every((m) => m.paymentId === paymentId && /rfd_never_asked_[12]/.test(m.detail))',
      );
    });

    it('answers a second refund outcome for one payment, payments for unknown or ended orders and unknown refunds without a 5xx, and lists them', async () => {
      const tv = await newTv(sys, 'contested-b');
      const ended = await createOrder(sys, 'kids-app', tv);
      assert.equal((await tv('POST', `/v1/orders/${ended}/cancel`)).status, 200);
      const late = { orderId: ended, paymentId: 'pay_late_one', amountMinor: 990 };
      const answers = [
        await send({ messageId: 'msg_late_paid', type: 'payment.completed', ...late }),
        await send({ messageId: 'msg_late_back_1', type: 'refund.succeeded', refundId: 'rfd_late_1', ...late }),
        await send({ messageId: 'msg_late_back_2', type: 'refund.succeeded', refundId: 'rfd_late_2', ...late }),
        await send({
          messageId: 'msg_late_back_1b',
          type: 'refund.failed',
          refundId: 'rfd_late_1',
          ...late,
          failureCode: 'X',
        }),
        await send({
          messageId: 'msg_ghost_order',
          type: 'payment.completed',
          orderId: 'ord_nobody',
          paymentId: 'pay_ghost',
          amountMinor: 100,
        }),
        await send({
          messageId: 'msg_ghost_refund',
          type: 'refund.failed',
          refundId: 'rfd_ghost',
          orderId: 'ord_nobody',
          paymentId: 'pay_ghost',
          amountMinor: 100,
          failureCode: 'X',
        }),
      ];
      for (const res of answers) assert.ok(res.status < 500, `${res.status} ${res.text}`);
      assert.deepEqual(
        answers.map((r) => r.json().result),
        ['rejected', 'applied', 'ignored', 'ignored', 'rejected', 'ignored'],
      );
      const order = (await sys.backendAdmin('GET', `/admin/v1/orders/${ended}`)).json();
      assert.equal(order.refundedMinor, 990, 'the late payment went back once');
      const { mismatches } = await reconcileToday();
      const kinds = (orderId: string) =>
        mismatches
          .filter((m) => m.orderId === orderId)
          .map((m) => m.kind)
          .sort();
      assert.deepEqual(kinds(ended), [
        'contradicting_refund_outcome',
        'payment_for_ended_order',
        'second_refund_outcome',
      ]);
      assert.deepEqual(kinds('ord_nobody'), ['payment_for_unknown_order', 'unknown_refund']);
    });
  });
}

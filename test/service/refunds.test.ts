import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { backendAlone, BOUND, type BackendAlone } from '../support/backend-alone.ts';
import { eventually } from '../support/eventually.ts';

// The back-end's refund rules, on the back-end alone with a fake payment server (test/support/backend-alone.ts).
// Refunds whose money, SMS and ledger are the payment server's are in refund-money.test.ts.

/** The back-end alone, with a paid order of a product to refund. */
async function withPaidOrder(t: TestContext, productId: string) {
  const k = await backendAlone(t);
  const paid = await k.paidOrder(productId);
  return { k, ...paid };
}

const refund = (k: BackendAlone, orderId: string, body: unknown, key?: string) =>
  k.backendAdmin('POST', `/admin/v1/orders/${orderId}/refunds`, body, key ? { 'idempotency-key': key } : {});
const refundsOf = async (k: BackendAlone, orderId: string) =>
  (await k.backendAdmin('GET', `/admin/v1/orders/${orderId}/refunds`)).json();
const settled = (k: BackendAlone, orderId: string) =>
  eventually(async () => {
    const list = await refundsOf(k, orderId);
    assert.ok(
      list.every((r: { status: string }) => r.status !== 'pending'),
      'a refund is still pending',
    );
    return list;
  });

describe('refunds', () => {
  it('never refunds more than was paid when many refunds race', async (t) => {
    const { k, orderId, payment } = await withPaidOrder(t, 'vip-month');
    const before = k.provider.wallets.get(BOUND)!;
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => refund(k, orderId, { amountMinor: 1000, reason: `race ${i}` })),
    );
    const created = answers.filter((r) => r.statusCode === 201);
    assert.equal(created.length, 2, answers.map((r) => r.statusCode).join(','));
    assert.ok(
      answers.every((r) => r.statusCode === 201 || r.json().code === 'REFUND_EXCEEDS_PAYMENT'),
      "answers.every((r) => r.statusCode === 201 || r.json().code === 'REFUND_EXCEEDS_PAYMENT')",
    );
    const list = await settled(k, orderId);
    assert.equal(list.filter((r: { status: string }) => r.status === 'succeeded').length, 2);
    assert.equal(k.provider.wallets.get(BOUND), before + 2000, 'the payment server was asked for 2 × 1000');
    assert.deepEqual(
      k.provider.refunds.map((r) => [r.paymentId, r.amountMinor]),
      [
        [payment.paymentId, 1000],
        [payment.paymentId, 1000],
      ],
    );
  });

  it('replays a refund sent again with the same Idempotency-Key and makes it once', async (t) => {
    const { k, orderId } = await withPaidOrder(t, 'kids-app');
    const first = await refund(k, orderId, { amountMinor: 100, reason: 'once' }, 'refund-key-1');
    const again = await refund(k, orderId, { amountMinor: 100, reason: 'once' }, 'refund-key-1');
    assert.equal(again.statusCode, 201);
    assert.equal(again.json().refundId, first.json().refundId);
    const other = await refund(k, orderId, { amountMinor: 200, reason: 'once' }, 'refund-key-1');
    assert.equal(other.statusCode, 422);
    assert.equal(other.json().code, 'IDEMPOTENCY_KEY_REUSED');
    assert.equal((await settled(k, orderId)).length, 1);
  });

  it('refuses to refund an order that is not paid, and bad amounts and reasons, changing nothing', async (t) => {
    const k = await backendAlone(t);
    const tv = await k.newTv('unpaid-tv');
    const orderId = await k.order('vip-month', tv);
    const unpaid = await refund(k, orderId, { reason: 'x' });
    assert.equal(unpaid.statusCode, 409);
    assert.equal(unpaid.json().code, 'ORDER_NOT_PAID');
    const { orderId: paid } = await k.paidOrder('vip-month');
    for (const body of [
      { amountMinor: 0, reason: 'x' },
      { amountMinor: -5, reason: 'x' },
      { amountMinor: 10.5, reason: 'x' },
      { amountMinor: '100', reason: 'x' },
      { reason: '' },
      { amountMinor: 100 },
      { reason: 'x'.repeat(201) },
    ]) {
      const res = await refund(k, paid, body);
      assert.equal(res.statusCode, 400, `${JSON.stringify(body)} → ${res.body}`);
      assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
    }
    assert.equal((await refund(k, 'ord_missing', { reason: 'x' })).statusCode, 404);
    assert.deepEqual(await refundsOf(k, paid), []);
    assert.deepEqual(k.provider.refunds, [], 'nothing reached the payment server');
  });
});

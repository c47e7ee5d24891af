import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newPayment, paymentStore } from '../../src/payserver/settlement/payment-store.ts';
import { refundStore } from '../../src/payserver/refunds/refund-store.ts';
import type { PayserverTables } from '../../src/payserver/schema.ts';
import { payserverMigrations } from '../../src/payserver/migrations/index.ts';
import { DIALECTS, freshStore, skipFor } from './dialects.ts';

for (const dialect of DIALECTS) {
  const skip = await skipFor(dialect);

  describe(`the wallet provider's payment list on ${dialect}`, { skip }, () => {
    it('pages newest first without repeating or skipping a payment, also when two share a time, and filters', async (t) => {
      const store = await freshStore<PayserverTables>(dialect, payserverMigrations, 4, t);
      const at = (s: number) => new Date(Date.UTC(2026, 11, 6, 1, 0, s)).toISOString();
      // Seven payments; p3 and p4 were made in the same millisecond.
      const made = [0, 1, 2, 3, 3, 5, 6].map((s, i) =>
        newPayment({
          id: `pay_${i}`,
          order_id: `ord_${i % 3}`,
          attempt: i,
          method: 'sms_code',
          phone: i % 2 ? '+8613800138000' : '+8613900139000',
          amount_minor: 990,
          currency: 'CNY',
          status: i === 6 ? 'failed' : 'captured',
          source: i === 5 ? 'card' : 'wallet',
          created_at: at(s),
        }),
      );
      for (const p of made) await paymentStore.insert(store.db, p);
      const seen: string[] = [];
      let before: { createdAt: string; id: string } | undefined;
      for (;;) {
        const page = await paymentStore.list(store.db, { limit: 2, ...(before ? { before } : {}) });
        seen.push(...page.map((p) => p.id));
        if (page.length < 2) break;
        before = { createdAt: page.at(-1)!.created_at, id: page.at(-1)!.id };
      }
      assert.deepEqual(seen, ['pay_6', 'pay_5', 'pay_4', 'pay_3', 'pay_2', 'pay_1', 'pay_0']);
      const ids = async (f: Parameters<typeof paymentStore.list>[1]) =>
        (await paymentStore.list(store.db, f)).map((p) => p.id);
      assert.deepEqual(await ids({ limit: 50, phone: '+8613800138000' }), ['pay_5', 'pay_3', 'pay_1']);
      assert.deepEqual(await ids({ limit: 50, status: 'failed' }), ['pay_6']);
      assert.deepEqual(await ids({ limit: 50, source: 'card' }), ['pay_5']);
      assert.deepEqual(await ids({ limit: 50, paymentId: 'pay_2', orderId: 'ord_2' }), ['pay_2']);
      await refundStore.insert(store.db, {
        id: 'rfd_1',
        payment_id: 'pay_2',
        order_id: 'ord_2',
        amount_minor: 500,
        currency: 'CNY',
        source: 'wallet',
        status: 'succeeded',
        failure_code: null,
        created_at: at(9),
      });
      assert.deepEqual(
        (await refundStore.ofPayments(store.db, ['pay_2', 'pay_3'])).map((r) => r.id),
        ['rfd_1'],
      );
      assert.deepEqual(await refundStore.ofPayments(store.db, []), []);
    });
  });
}

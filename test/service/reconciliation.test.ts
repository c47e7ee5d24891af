import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { businessDate } from '../../src/lib/business-day.ts';
import { backendAlone, BOUND, type BackendAlone } from '../support/backend-alone.ts';
import { freshPgDatabase, pgSkip } from '../support/pg.ts';

// The back-end's reconciliation against its provider's statement and trace, on the back-end alone with a fake
// payment server, on both stores. The statement itself is the payment server's: statements.test.ts.

const today = (k: BackendAlone) => businessDate(k.clock.now(), 'Asia/Shanghai');

for (const dialect of ['sqlite', 'postgres'] as const) {
  const skip = dialect === 'postgres' ? await pgSkip() : false;

  /** The back-end alone on this dialect's store (a fresh PostgreSQL database, dropped after the test). */
  async function backend(t: TestContext) {
    if (dialect === 'sqlite') return backendAlone(t);
    const pg = await freshPgDatabase();
    t.after(() => pg.drop());
    return backendAlone(t, { TVPAY_BACKEND_DATABASE_URL: pg.url });
  }

  /** A TV's order whose payment the back-end started; the payer's side is left to the test. */
  async function started(k: BackendAlone, name: string) {
    const tv = await k.newTv(name);
    const orderId = await k.order('kids-app', tv);
    const res = await tv('POST', `/v1/orders/${orderId}/payer`, { phone: BOUND });
    assert.equal(res.statusCode, 202, res.body);
    await k.started(orderId);
    return { tv, orderId };
  }

  /** The payer pays, but the payment server's message to the back-end is held back. */
  async function paidButUntold(k: BackendAlone, name: string) {
    const order = await started(k, name);
    await k.provider.complete(order.orderId, { tell: false });
    assert.equal((await order.tv('GET', `/v1/orders/${order.orderId}`)).json().status, 'awaiting_payment');
    return order;
  }

  describe(`reconciliation on ${dialect}`, { skip }, () => {
    it('repairs a payment whose outcome never reached the back-end, once, and reports the day as matched afterwards', async (t) => {
      const k = await backend(t);
      const { orderId: refunded } = await k.paidOrder('kids-app');
      const asked = await k.backendAdmin('POST', `/admin/v1/orders/${refunded}/refunds`, {
        amountMinor: 90,
        reason: 'x',
      });
      assert.equal(asked.statusCode, 201, asked.body);
      await k.settle();
      const { tv, orderId } = await paidButUntold(k, 'lost-tv');
      const res = await k.backendAdmin('POST', '/admin/v1/reconciliations', { date: today(k) });
      assert.equal(res.statusCode, 200, res.body);
      const report = res.json();
      assert.deepEqual(
        report.repaired
          .filter((r: { orderId: string }) => r.orderId === orderId)
          .map((r: { action: string }) => r.action),
        ['applied_payment'],
      );
      assert.deepEqual(report.mismatches, []);
      await k.until(orderId, 'fulfilled', tv);
      await k.provider.tellHeld();
      await k.settle();
      const again = (await k.backendAdmin('POST', '/admin/v1/reconciliations', { date: today(k) })).json();
      assert.deepEqual(again.repaired, []);
      assert.deepEqual(again.mismatches, []);
      assert.ok(again.matched >= 3, 'payments and refunds of the day agree');
      assert.equal((await k.backendAdmin('GET', '/admin/v1/reconciliations')).json()[0].ranAt, again.ranAt);
      assert.equal((await k.backendAdmin('POST', '/admin/v1/reconciliations', { date: '2026-13-01' })).statusCode, 400);
    });

    it('checks an order that waited for its payment for minutes against the provider, so a lost message never leaves it unpaid', async (t) => {
      const k = await backend(t);
      const { tv, orderId } = await paidButUntold(k, 'stale-tv');
      await k.advance(6 * 60 * 1000);
      await k.until(orderId, 'fulfilled', tv);
      await k.provider.tellHeld();
    });

    it("checks every waiting order in turn, so a lost message is found even behind more than a sweep's worth of others that stay unpaid", async (t) => {
      const k = await backend(t);
      const { tv, orderId } = await paidButUntold(k, 'starved-tv');
      // 60 orders of other TVs that have waited longer and that the provider never saw: more than one sweep checks.
      const db = k.db;
      const order = await db.selectFrom('orders').selectAll().where('id', '=', orderId).executeTakeFirstOrThrow();
      const device = await db
        .selectFrom('devices')
        .selectAll()
        .where('id', '=', order.device_id)
        .executeTakeFirstOrThrow();
      const ids = Array.from({ length: 60 }, (_, i) => `waiting${String(i).padStart(2, '0')}`);
      await db
        .insertInto('devices')
        .values(ids.map((id) => ({ ...device, id: `dev_${id}`, token_hash: `hash_${id}` })))
        .execute();
      await db
        .insertInto('orders')
        .values(
          ids.map((id, i) => ({
            ...order,
            id: `ord_${id}`,
            device_id: `dev_${id}`,
            link_token_sealed: '',
            updated_at: new Date(Date.parse(order.updated_at) - 60_000 + i).toISOString(),
            expires_at: '2999-01-01T00:00:00.000Z',
          })),
        )
        .execute();
      await k.advance(6 * 60 * 1000);
      for (let i = 0; i < 3; i++) await k.backend.sweep();
      await k.until(orderId, 'fulfilled', tv);
      await k.provider.tellHeld();
    });

    it("charts the last 24 hours' orders, revenue and failures by hour, counted by the store as the orders say", async (t) => {
      const k = await backend(t);
      const { orderId: refunded } = await k.paidOrder('vip-month');
      await k.backendAdmin('POST', `/admin/v1/orders/${refunded}/refunds`, { amountMinor: 500, reason: 'x' });
      await k.paidOrder('kids-app');
      const { orderId: failing, tv } = await started(k, 'failing-tv');
      await k.provider.fail(failing, 'INSUFFICIENT_FUNDS');
      await k.until(failing, 'failed', tv);
      await k.order('kids-app', await k.newTv('open-tv'));
      await k.settle();
      const stats = (await k.backendAdmin('GET', '/admin/v1/stats/orders?window=24h')).json() as {
        buckets: Array<{
          start: string;
          orders: Record<string, number>;
          revenueMinor: Record<string, number>;
          failures: Record<string, number>;
        }>;
      };
      assert.equal(stats.buckets.length, 24);
      const orders = (await k.backendAdmin('GET', '/admin/v1/orders?limit=200')).json().items as Array<{
        channel: string | null;
        status: string;
        failureCode: string | null;
        amountMinor: number;
        refundedMinor: number;
        currency: string;
        createdAt: string;
      }>;
      const sum = (pick: (b: (typeof stats.buckets)[number]) => Record<string, number>) => {
        const total: Record<string, number> = {};
        for (const b of stats.buckets)
          for (const [key, v] of Object.entries(pick(b))) total[key] = (total[key] ?? 0) + v;
        return total;
      };
      const expected = {
        orders: {} as Record<string, number>,
        revenue: {} as Record<string, number>,
        failures: {} as Record<string, number>,
      };
      for (const o of orders.filter((x) => Date.parse(x.createdAt) >= Date.parse(stats.buckets[0]!.start))) {
        expected.orders[o.channel ?? 'none'] = (expected.orders[o.channel ?? 'none'] ?? 0) + 1;
        if (['paid', 'fulfilled', 'refunded'].includes(o.status))
          expected.revenue[o.currency] = (expected.revenue[o.currency] ?? 0) + o.amountMinor - o.refundedMinor;
        if (o.status === 'failed')
          expected.failures[o.failureCode ?? 'PAYMENT_FAILED'] =
            (expected.failures[o.failureCode ?? 'PAYMENT_FAILED'] ?? 0) + 1;
      }
      assert.ok(orders.length > 0, 'orders.length > 0');
      assert.deepEqual(
        sum((b) => b.orders),
        expected.orders,
      );
      assert.deepEqual(
        sum((b) => b.revenueMinor),
        expected.revenue,
      );
      assert.deepEqual(
        sum((b) => b.failures),
        expected.failures,
      );
      const last = stats.buckets.at(-1)!;
      assert.ok(
        Date.parse(last.start) <= k.clock.now().getTime() &&
          k.clock.now().getTime() < Date.parse(last.start) + 3600_000,
        'the last bucket is the current hour',
      );
    });
  });
}

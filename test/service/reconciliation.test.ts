import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { businessDate } from '../../src/lib/business-day.ts';
import { eventually } from '../support/eventually.ts';
import { createOrder, latestCode, newTv, orderStatus, smsCount } from '../support/flows.ts';
import { freshServiceDatabases, pgSkip } from '../support/pg.ts';
import { testSystem, type TestSystem } from '../support/system.ts';

const A = '8613800138000';
let sys: TestSystem;
const today = () => businessDate(sys.clock.now(), 'Asia/Shanghai');

/** A TV's order with the code SMS received; the reply is left to the test. */
async function awaitingCode(name: string) {
  const tv = await newTv(sys, name);
  const orderId = await createOrder(sys, 'kids-app', tv);
  const seen = await smsCount(sys, A);
  await tv('POST', `/v1/orders/${orderId}/payer`, { phone: A });
  return { tv, orderId, code: await latestCode(sys, A, seen) };
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  const skip = dialect === 'postgres' ? await pgSkip() : false;
  describe(`statements and reconciliation on ${dialect}`, { skip }, () => {
    const dbs: Array<{ drop(): Promise<void> }> = [];
    before(async () => {
      const env: Record<string, string> = { TVPAY_LIMIT_PAYER_PER_PHONE: '1000', TVPAY_LIMIT_CODES_PER_PHONE: '1000' };
      if (dialect === 'postgres') {
        const pg = await freshServiceDatabases();
        dbs.push(pg);
        Object.assign(env, pg.env);
      }
      sys = await testSystem(env);
    });
    after(async () => {
      await sys?.close();
      for (const d of dbs) await d.drop();
    });

    it("lists the day's captures and refunds as CSV with exactly the contract's columns, and as JSON", async () => {
      const { tv, orderId, code } = await awaitingCode('stmt-tv');
      await sys.carrier.carrier.reply(A, code);
      await orderStatus(sys, orderId, 'fulfilled', tv);
      await sys.backendAdmin('POST', `/admin/v1/orders/${orderId}/refunds`, {
        amountMinor: 90,
        reason: 'statement test',
      });
      const payment = (await sys.backendAdmin('GET', `/admin/v1/orders/${orderId}`)).json().paymentId;
      const csv = await eventually(async () => {
        const res = await sys.payAdmin('GET', `/admin/v1/statements/${today()}`);
        assert.equal(res.statusCode, 200);
        assert.equal(res.headers['content-type'], 'text/csv; charset=utf-8');
        assert.ok(res.body.includes(`refund,${payment},`), 'the refund is in it');
        return res.body;
      });
      const [header, ...lines] = csv.trimEnd().split('\n');
      assert.equal(header, 'type,payment_id,refund_id,order_id,amount_minor,currency,source,at');
      const mine = lines.filter((l) => l.includes(orderId));
      assert.equal(mine.length, 2);
      assert.match(
        mine.find((l) => l.startsWith('payment,'))!,
        new RegExp(`^payment,${payment},,${orderId},990,CNY,wallet,\\d{4}-`),
      );
      assert.match(
        mine.find((l) => l.startsWith('refund,'))!,
        new RegExp(`^refund,${payment},rfd_[\\w-]+,${orderId},90,CNY,wallet,`),
      );
      const json = (await sys.payAdmin('GET', `/admin/v1/statements/${today()}?format=json`)).json();
      assert.deepEqual(Object.keys(json[0]), [
        'type',
        'payment_id',
        'refund_id',
        'order_id',
        'amount_minor',
        'currency',
        'source',
        'at',
      ]);
      for (const bad of ['2026-02-30', '20261201', 'today'])
        assert.equal((await sys.payAdmin('GET', `/admin/v1/statements/${bad}`)).statusCode, 400, bad);
    });

    it('repairs a payment whose outcome never reached the back-end, once, and reports the day as matched afterwards', async () => {
      const { tv, orderId, code } = await awaitingCode('lost-tv');
      // The payment-completed message is held back at the payment server: the capture happens, the back-end hears nothing.
      await sys.payserver.worker.stop();
      await sys.carrier.carrier.reply(A, code);
      await eventually(async () =>
        assert.equal(
          (await sys.payAdmin('GET', `/admin/v1/payments?orderId=${orderId}`)).json()[0]?.status,
          'captured',
        ),
      );
      assert.equal((await tv('GET', `/v1/orders/${orderId}`)).json().status, 'awaiting_payment');
      const res = await sys.backendAdmin('POST', '/admin/v1/reconciliations', { date: today() });
      assert.equal(res.statusCode, 200, res.body);
      const report = res.json();
      assert.deepEqual(
        report.repaired
          .filter((r: { orderId: string }) => r.orderId === orderId)
          .map((r: { action: string }) => r.action),
        ['applied_payment'],
      );
      assert.deepEqual(report.mismatches, []);
      await orderStatus(sys, orderId, 'fulfilled', tv);
      sys.payserver.worker.start();
      await sys.payserver.worker.drain();
      const again = (await sys.backendAdmin('POST', '/admin/v1/reconciliations', { date: today() })).json();
      assert.deepEqual(again.repaired, []);
      assert.deepEqual(again.mismatches, []);
      assert.ok(again.matched >= 3, 'payments and refunds of the day agree');
      assert.equal((await sys.backendAdmin('GET', '/admin/v1/reconciliations')).json()[0].ranAt, again.ranAt);
      assert.equal(
        (await sys.backendAdmin('POST', '/admin/v1/reconciliations', { date: '2026-13-01' })).statusCode,
        400,
      );
    });

    it('checks an order that waited for its payment for minutes against the provider, so a lost message never leaves it unpaid', async () => {
      const { tv, orderId, code } = await awaitingCode('stale-tv');
      await sys.payserver.worker.stop();
      await sys.carrier.carrier.reply(A, code);
      await eventually(async () =>
        assert.equal(
          (await sys.payAdmin('GET', `/admin/v1/payments?orderId=${orderId}`)).json()[0]?.status,
          'captured',
        ),
      );
      await sys.advance(6 * 60 * 1000);
      await orderStatus(sys, orderId, 'fulfilled', tv);
      sys.payserver.worker.start();
    });
    it("checks every waiting order in turn, so a lost message is found even behind more than a sweep's worth of others that stay unpaid", async () => {
      const { tv, orderId, code } = await awaitingCode('starved-tv');
      await sys.payserver.worker.stop();
      await sys.carrier.carrier.reply(A, code);
      await eventually(async () =>
        assert.equal(
          (await sys.payAdmin('GET', `/admin/v1/payments?orderId=${orderId}`)).json()[0]?.status,
          'captured',
        ),
      );
      // 60 orders of other TVs that have waited longer and that the provider never saw: more than one sweep checks.
      const db = sys.backend.db;
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
      try {
        await sys.advance(6 * 60 * 1000);
        for (let i = 0; i < 3; i++) await sys.backend.sweep();
        await orderStatus(sys, orderId, 'fulfilled', tv);
      } finally {
        await db
          .deleteFrom('orders')
          .where(
            'id',
            'in',
            ids.map((id) => `ord_${id}`),
          )
          .execute();
        await db
          .deleteFrom('devices')
          .where(
            'id',
            'in',
            ids.map((id) => `dev_${id}`),
          )
          .execute();
        sys.payserver.worker.start();
      }
    });
    it("charts the last 24 hours' orders, revenue and failures by hour, counted by the store as the orders say", async () => {
      const stats = (await sys.backendAdmin('GET', '/admin/v1/stats/orders?window=24h')).json() as {
        buckets: Array<{
          start: string;
          orders: Record<string, number>;
          revenueMinor: Record<string, number>;
          failures: Record<string, number>;
        }>;
      };
      assert.equal(stats.buckets.length, 24);
      const orders = (await sys.backendAdmin('GET', '/admin/v1/orders?limit=200')).json().items as Array<{
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
        for (const b of stats.buckets) for (const [k, v] of Object.entries(pick(b))) total[k] = (total[k] ?? 0) + v;
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
      assert.ok(orders.length > 0);
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
        Date.parse(last.start) <= sys.clock.now().getTime() &&
          sys.clock.now().getTime() < Date.parse(last.start) + 3600_000,
        'the last bucket is the current hour',
      );
    });
  });
}

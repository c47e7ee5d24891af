import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DevAlipayTables } from '../../src/dev-rails/alipay/schema.ts';
import { businessDate, businessDay } from '../../src/lib/business-day.ts';
import { openDatabase } from '../../src/lib/db/open-database.ts';
import { eventually } from '../support/eventually.ts';
import { createOrder, newTv, orderStatus } from '../support/flows.ts';
import { pgSkip } from '../support/pg.ts';
import { lifted, testSystem, type TestSystem } from '../support/system.ts';

type RailName = 'alipay' | 'wechatpay';
interface Line {
  kind: string;
  outTradeNo: string;
  providerTradeNo: string | null;
  railAmountMinor?: number;
  tvpayAmountMinor?: number;
  paymentId?: string;
  refundId?: string;
  orderId?: string;
  action?: string;
}
interface Recon {
  date: string;
  matched: Line[];
  missingHere: Line[];
  missingAtRail: Line[];
  amountMismatches: Line[];
}

let sys: TestSystem;

const SHANGHAI = 'Asia/Shanghai';
const db = () => sys.payserver.db;
const today = () => businessDate(sys.clock.now(), SHANGHAI);
const tradeOf = (orderId: string) =>
  db().selectFrom('rail_trades').selectAll().where('order_id', '=', orderId).executeTakeFirstOrThrow();

/** The development Alipay's own store: what "Alipay" knows, changed only to make a test's situation. */
async function onDevAlipay(change: (d: ReturnType<typeof openDatabase<DevAlipayTables>>['db']) => Promise<unknown>) {
  const handle = openDatabase<DevAlipayTables>(join(sys.dir, 'dev-alipay.db'));
  try {
    await change(handle.db);
  } finally {
    await handle.close();
  }
}

async function payByScan(rail: RailName, qrText: string) {
  const res = await sys.carrier.app.inject({
    method: 'POST',
    url: rail === 'alipay' ? '/dev/alipay/scan' : '/dev/wechatpay/scan',
    payload: new URLSearchParams(rail === 'alipay' ? { qr: qrText } : { code_url: qrText }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(res.statusCode, 200, res.body);
}

/**
 * An order of a TV of its own, to be paid by scan: no payer phone is given, so no SMS code's expiry ends the
 * order while a test moves the clock past the day's end.
 */
async function openOrder() {
  const tv = await newTv(sys, `tv-${Math.random().toString(36).slice(2, 8)}`);
  return { tv, orderId: await createOrder(sys, 'vip-month', tv) };
}

/** The TV's QR code of an order for a rail (`POST /v1/orders/{orderId}/scan`). */
async function scan(tv: Awaited<ReturnType<typeof openOrder>>['tv'], orderId: string, rail: RailName) {
  const res = await tv('POST', `/v1/orders/${orderId}/scan`, { rail });
  assert.equal(res.statusCode, 200, res.body);
  return res.json().qrText as string;
}

/** An order paid by scan on a rail and fulfilled (its notification arrived). */
async function paidOrder(rail: RailName) {
  const { tv, orderId } = await openOrder();
  await payByScan(rail, await scan(tv, orderId, rail));
  const order = await orderStatus(sys, orderId, 'fulfilled', tv);
  return { orderId, amountMinor: order.amountMinor as number, trade: await tradeOf(orderId) };
}

/** Moves the clock a minute past the end of the Shanghai day `date`: its bills exist from then on. */
async function pastEndOf(date: string) {
  const end = Date.parse(businessDay(date, SHANGHAI).end);
  await sys.advance(end + 60_000 - sys.clock.now().getTime());
}

async function reconcile(rail: RailName, date: string): Promise<Recon> {
  const res = await sys.payAdmin('GET', `/admin/v1/rails/${rail}/reconciliations/${date}`);
  assert.equal(res.statusCode, 200, res.body);
  return res.json() as Recon;
}

/** Everything a reconciliation could change at the payment server. */
async function books() {
  const all = (t: 'payments' | 'refunds' | 'rail_trades' | 'rail_trade_log' | 'postings') =>
    db().selectFrom(t).selectAll().execute();
  return Promise.all([all('payments'), all('refunds'), all('rail_trades'), all('rail_trade_log'), all('postings')]);
}

const pgSkipped = await pgSkip();

for (const store of ['sqlite', 'postgresql'] as const) {
  const skip = store === 'postgresql' ? pgSkipped : false;
  describe(`reconciliation of each rail against its bill (${store})`, { skip }, () => {
    before(async () => {
      if (skip) return;
      const env = {
        ...lifted(['PAYER_PER_PHONE', 'CODES_PER_PHONE', 'ORDERS_PER_DEVICE']),
        // Orders outlive the day each test moves past, so no order's end closes (and so queries) its trades first.
        TVPAY_ORDER_TTL_SECONDS: String(3 * 86_400),
      };
      sys = await testSystem(env, { postgres: store === 'postgresql' });
    });
    after(async () => {
      if (skip) return;
      await sys.close();
    });

    it('matches scan payments and refunds on both rails, and the statement names their rail', async () => {
      const date = today();
      const paid: Record<RailName, Awaited<ReturnType<typeof paidOrder>>> = {
        alipay: await paidOrder('alipay'),
        wechatpay: await paidOrder('wechatpay'),
      };
      for (const rail of ['alipay', 'wechatpay'] as const) {
        const { orderId, amountMinor } = paid[rail];
        const res = await sys.backendAdmin(
          'POST',
          `/admin/v1/orders/${orderId}/refunds`,
          { amountMinor: 1, reason: 'test' },
          { 'idempotency-key': `k-${orderId}` },
        );
        assert.ok(res.statusCode < 300, res.body);
        assert.ok(amountMinor > 1, 'amountMinor > 1');
      }
      await eventually(async () => {
        // WeChat Pay completes a refund by itself a moment later: time moves so tvpay asks about it again.
        await sys.advance(5_000);
        const refunds = await db()
          .selectFrom('refunds')
          .select('status')
          .where('order_id', 'in', [paid.alipay.orderId, paid.wechatpay.orderId])
          .execute();
        assert.deepEqual(
          refunds.map((r) => r.status),
          ['succeeded', 'succeeded'],
        );
      }, 60_000);

      const statement = await sys.payAdmin('GET', `/admin/v1/statements/${date}?format=json`);
      for (const rail of ['alipay', 'wechatpay'] as const) {
        const rows = statement.json().filter((r: { order_id: string }) => r.order_id === paid[rail].orderId);
        assert.deepEqual(rows.map((r: { type: string; source: string }) => [r.type, r.source]).sort(), [
          ['payment', rail],
          ['refund', rail],
        ]);
      }
      const csv = (await sys.payAdmin('GET', `/admin/v1/statements/${date}`)).body;
      assert.ok(
        csv.split('\n').some((l) => l.includes(paid.wechatpay.trade.payment_id) && l.includes(',wechatpay,')),
        "csv.split('\\n').some((l) => l.includes(paid.wechatpay.trade.payment_id) && l.includes(',wechatpay,')",
      );

      await pastEndOf(date);
      for (const rail of ['alipay', 'wechatpay'] as const) {
        const recon = await reconcile(rail, date);
        const { trade, orderId, amountMinor } = paid[rail];
        assert.deepEqual([recon.missingHere, recon.missingAtRail, recon.amountMismatches], [[], [], []]);
        const mine = recon.matched.filter((l) => l.orderId === orderId);
        assert.deepEqual(mine.map((l) => [l.kind, l.outTradeNo, l.railAmountMinor, l.tvpayAmountMinor]).sort(), [
          ['payment', trade.out_trade_no, amountMinor, amountMinor],
          ['refund', trade.out_trade_no, 1, 1],
        ]);
        assert.equal(mine[0]!.providerTradeNo, trade.provider_trade_no);
      }
      await sys.walk.assertLedgerSound();
    });

    it('settles once an Alipay payment whose notification was lost and that was never asked about', async () => {
      const date = today();
      const { tv, orderId } = await openOrder();
      const qrText = await scan(tv, orderId, 'alipay');
      const trade = await tradeOf(orderId);
      // The notification is lost (Alipay has no notify_url for it) and the sweeper never asks about the trade.
      await onDevAlipay((d) =>
        d.updateTable('trades').set({ notify_url: null }).where('out_trade_no', '=', trade.out_trade_no).execute(),
      );
      await db()
        .updateTable('rail_trades')
        .set({ next_check_at: null })
        .where('out_trade_no', '=', trade.out_trade_no)
        .execute();
      await payByScan('alipay', qrText);
      await pastEndOf(date);
      assert.equal((await tradeOf(orderId)).state, 'qr', 'nothing told tvpay of the payment');

      const first = await reconcile('alipay', date);
      assert.deepEqual(
        first.missingHere.map((l) => [l.outTradeNo, l.paymentId, l.action]),
        [[trade.out_trade_no, trade.payment_id, 'settled']],
      );
      const settled = await tradeOf(orderId);
      assert.equal(settled.state, 'paid');
      assert.ok(settled.provider_trade_no, 'settled.provider_trade_no');
      await orderStatus(sys, orderId, 'fulfilled', tv);
      await sys.walk.assertLedgerSound();

      const before = await books();
      const second = await reconcile('alipay', date);
      assert.deepEqual(second.missingHere, []);
      assert.deepEqual(
        second.matched.filter((l) => l.orderId === orderId).map((l) => [l.kind, l.outTradeNo]),
        [['payment', trade.out_trade_no]],
      );
      assert.deepEqual(await books(), before, 'a second run changes nothing');
    });

    it('lists a payment the rail billed for another amount, and moves no money for it', async () => {
      const date = today();
      const { orderId, amountMinor, trade } = await paidOrder('alipay');
      await onDevAlipay((d) =>
        d
          .updateTable('trades')
          .set({ total_fen: amountMinor + 100 })
          .where('out_trade_no', '=', trade.out_trade_no)
          .execute(),
      );
      await pastEndOf(date);
      const before = await books();
      const recon = await reconcile('alipay', date);
      assert.deepEqual(
        recon.amountMismatches.map((l) => [l.outTradeNo, l.orderId, l.railAmountMinor, l.tvpayAmountMinor]),
        [[trade.out_trade_no, orderId, amountMinor + 100, amountMinor]],
      );
      assert.deepEqual([recon.missingHere, recon.missingAtRail], [[], []]);
      assert.deepEqual(await books(), before);
    });

    it('answers 409 for a bill not available yet or a rail that is off, and 400 for a bad date', async () => {
      const notYet = await sys.payAdmin('GET', `/admin/v1/rails/wechatpay/reconciliations/${today()}`);
      assert.equal(notYet.statusCode, 409, notYet.body);
      assert.equal(notYet.json().code, 'BILL_NOT_READY');
      assert.match(notYet.json().detail, /not available/);
      const off = await sys.payAdmin('GET', '/admin/v1/rails/paypal/reconciliations/2026-01-05');
      assert.equal(off.statusCode, 409, off.body);
      assert.equal(off.json().code, 'RAIL_UNAVAILABLE');
      const bad = await sys.payAdmin('GET', '/admin/v1/rails/alipay/reconciliations/2026-02-30');
      assert.equal(bad.statusCode, 400, bad.body);
      assert.match(bad.json().detail, /YYYY-MM-DD/);
      const anonymous = await sys.payserverAs(undefined)('GET', '/admin/v1/rails/alipay/reconciliations/2026-01-05');
      assert.equal(anonymous.statusCode, 401);
    });
  });
}

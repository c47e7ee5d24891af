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

// The back-end's reconciliation rules are in reconciliation.test.ts, on the back-end kit; the statement is the
// payment server's, read here across the services.
for (const dialect of ['sqlite', 'postgres'] as const) {
  const skip = dialect === 'postgres' ? await pgSkip() : false;
  describe(`the payment server's statements on ${dialect}`, { skip }, () => {
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
  });
}

import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import type { Kysely } from 'kysely';
import { orderRefundFigures } from '../../src/backend/orders/order-store.ts';
import type { BackendTables } from '../../src/backend/schema.ts';
import { backendMigrations } from '../../src/backend/migrations/index.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { inTransaction } from '../../src/lib/db/in-transaction.ts';
import { unitOfWork } from '../../src/lib/db/unit-of-work.ts';
import { openDatabase } from '../../src/lib/db/open-database.ts';
import { cryptoRandom } from '../../src/lib/ids.ts';
import { Ledger } from '../../src/payserver/ledger/ledger.ts';
import { auditLedger } from '../../src/payserver/ledger/ledger-audit.ts';
import { RefundsService } from '../../src/payserver/refunds/refunds-service.ts';
import type { PayserverTables } from '../../src/payserver/schema.ts';
import { payserverMigrations } from '../../src/payserver/migrations/index.ts';
import type { SmsGateway } from '../../src/sms/gateway.ts';
import { DIALECTS, freshStore, skipFor } from './dialects.ts';
import { insertTvOrder } from './rows.ts';

/** Receipts go out through the outbox, which these tests do not run: a send here would be a bug. */
const noSending: SmsGateway = {
  send: async () => {
    throw new Error('no SMS is sent by a refund itself');
  },
} as unknown as SmsGateway;

/**
 * Two instances of a service on one store: on PostgreSQL two pools. An
 * embedded SQLite file has one writer per process (better-sqlite3 waits for a
 * lock synchronously, so a second writer in the same process would block the
 * first one's commit), so on SQLite the racers share the one instance, and
 * race through its group commit.
 */
async function twoInstances<DB>(
  dialect: (typeof DIALECTS)[number],
  migrations: Parameters<typeof freshStore>[1],
  t: TestContext,
) {
  const first = await freshStore<DB>(dialect, migrations, 10, t);
  if (dialect === 'sqlite') return [first, first] as const;
  const second = openDatabase<DB>(first.url, { poolSize: 10 });
  t.after(() => second.close());
  return [first, second] as const;
}

/** `times` transactions running `work` at once, alternately on each of two instances; their answers. */
function race<T>(
  instances: readonly [{ db: Kysely<BackendTables> }, { db: Kysely<BackendTables> }],
  times: number,
  work: (trx: Kysely<BackendTables>) => Promise<T>,
): Promise<T[]> {
  return Promise.all(Array.from({ length: times }, (_, i) => inTransaction(instances[i % 2]!.db, work)));
}

/** What is reserved of order `ord_1` for refunds (PostgreSQL answers a bigint as a string). */
async function reservedOf(db: Kysely<BackendTables>): Promise<number> {
  const order = await db
    .selectFrom('orders')
    .select('refund_reserved_minor')
    .where('id', '=', 'ord_1')
    .executeTakeFirstOrThrow();
  return Number(order.refund_reserved_minor);
}

for (const dialect of DIALECTS) {
  const skip = await skipFor(dialect);

  describe(`refunds racing on two instances on ${dialect}`, { skip }, () => {
    it('the back-end counts no more refunds against an order than was paid', async (t) => {
      const [a, b] = await twoInstances<BackendTables>(dialect, backendMigrations, t);
      const now = new Date().toISOString();
      await insertTvOrder(a.db, now, {
        amount_minor: 1000,
        status: 'fulfilled',
        channel: 'sms_confirm',
        payer_phone: '+8613800138000',
        attempt: 1,
        payment_id: 'pay_1',
        paid_at: now,
        fulfilled_at: now,
      });
      const tries = await race([a, b], 30, (trx) => orderRefundFigures.reserve(trx, 'ord_1', 100, new Date()));
      assert.equal(tries.filter(Boolean).length, 10);
      assert.equal(await reservedOf(a.db), 1000);
    });

    it('the back-end gives back reserved refunds only while that much is reserved, never below zero', async (t) => {
      const [a, b] = await twoInstances<BackendTables>(dialect, backendMigrations, t);
      const now = new Date().toISOString();
      await insertTvOrder(a.db, now, { amount_minor: 1000, status: 'fulfilled', payment_id: 'pay_1', paid_at: now });
      await inTransaction(a.db, (trx) => orderRefundFigures.reserve(trx, 'ord_1', 300, new Date()));
      await race([a, b], 8, (trx) => orderRefundFigures.unreserve(trx, 'ord_1', 100));
      assert.equal(await reservedOf(a.db), 0);
    });

    it('the payment server gives back no more than it captured, and each refund id once', async (t) => {
      const [a, b] = await twoInstances<PayserverTables>(dialect, payserverMigrations, t);
      const clock = new ManualClock();
      const ledger = new Ledger(cryptoRandom, clock);
      const now = clock.now().toISOString();
      await a.db
        .insertInto('accounts')
        .values({ id: 'acc_1', phone: '+8613800138000', currency: 'CNY', quick_pay: 1, created_at: now })
        .execute();
      const wallet = await ledger.openAccount(a.db, { accountId: 'acc_1', kind: 'wallet', currency: 'CNY' });
      await ledger.credit(a.db, wallet, 5000, 'seed');
      const hold = (await ledger.reserve(a.db, wallet, 1000, 'pay_1'))!;
      await ledger.capture(a.db, hold);
      await a.db
        .insertInto('payments')
        .values({
          id: 'pay_1',
          order_id: 'ord_1',
          attempt: 1,
          method: 'sms_code',
          phone: '+8613800138000',
          account_id: 'acc_1',
          source: 'wallet',
          hold_id: hold,
          amount_minor: 1000,
          currency: 'CNY',
          status: 'captured',
          failure_code: null,
          code_hash: null,
          code_expires_at: null,
          wrong_replies: 0,
          refunded_minor: 0,
          created_at: now,
          completed_at: now,
        })
        .execute();
      const service = (db: typeof a.db) =>
        new RefundsService({
          db,
          ledger,
          gateway: noSending,
          random: cryptoRandom,
          clock,
          work: unitOfWork(db),
          options: { locale: 'zh-CN', smsFrom: '10690000' },
        });
      const [sa, sb] = [service(a.db), service(b.db)];
      const ask = (s: RefundsService, id: string) =>
        s.refund({
          refundId: id,
          orderId: 'ord_1',
          paymentId: 'pay_1',
          amountMinor: 300,
          currency: 'CNY',
          reason: 'race',
        });
      const answers = await Promise.all([
        ...Array.from({ length: 8 }, (_, i) => ask(i % 2 ? sa : sb, `rfd_${i}`)),
        ...Array.from({ length: 6 }, (_, i) => ask(i % 2 ? sa : sb, 'rfd_same')),
      ]);
      const same = answers.slice(8);
      assert.ok(
        same.every((x) => x.status === same[0]!.status),
        'one refund id, one answer',
      );
      const rows = await a.db.selectFrom('refunds').selectAll().execute();
      assert.equal(rows.length, 9, 'one row per refund id');
      const succeeded = rows.filter((r) => r.status === 'succeeded');
      assert.equal(succeeded.length, 3, '3 × 300 fit in 1000, a fourth does not');
      const w = await a.db.selectFrom('ledger_accounts').selectAll().where('id', '=', wallet).executeTakeFirstOrThrow();
      assert.equal(Number(w.balance_minor), 5000 - 1000 + 900);
      const payment = await a.db.selectFrom('payments').selectAll().where('id', '=', 'pay_1').executeTakeFirstOrThrow();
      assert.equal(Number(payment.refunded_minor), 900);
      assert.equal((await auditLedger(a.db)).ok, true);
    });
  });
}

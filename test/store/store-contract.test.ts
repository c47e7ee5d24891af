import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import type { Kysely } from 'kysely';
import type { BackendTables } from '../../src/backend/schema.ts';
import { backendMigrations } from '../../src/backend/migrations/index.ts';
import { findOrder, moveOrder, setChannel, takePayer } from '../../src/backend/orders/order-store.ts';
import { orderTimeline } from '../../src/backend/orders/order-timeline.ts';
import { correlation } from '../../src/lib/correlation.ts';
import { grantEntitlement, listEntitlements } from '../../src/backend/entitlements/entitlements.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import type { CommonTables } from '../../src/lib/db/common-tables.ts';
import { createLogger } from '../../src/lib/log.ts';
import { enqueue, handler as handlerOf, topic } from '../../src/lib/outbox/outbox.ts';

const T = topic<{ i: number }>('t');
import { OutboxWorker } from '../../src/lib/outbox/outbox-worker.ts';
import { RateLimiter } from '../../src/lib/rate-limiter.ts';
import { ledgerOn } from '../../src/payserver/ledger/ledger-test-kit.ts';
import { merchantSubAccount } from '../../src/payserver/ledger/ledger.ts';
import { inTransaction } from '../../src/lib/db/in-transaction.ts';
import { checkoutStore } from '../../src/payserver/settlement/checkout-store.ts';
import { newPayment, paymentStore } from '../../src/payserver/settlement/payment-store.ts';
import { accountStore } from '../../src/payserver/accounts/account-store.ts';
import { agreementStore } from '../../src/payserver/agreements/agreement-store.ts';
import type { PayserverTables } from '../../src/payserver/schema.ts';
import { payserverMigrations } from '../../src/payserver/migrations/index.ts';
import { smsLog } from '../../src/sms/sms-log.ts';
import { queueSms } from '../../src/sms/text-sms.ts';
import type { RandomSource } from '../../src/lib/ids.ts';
import { DIALECTS, freshStore, skipFor } from './dialects.ts';
import { insertTvOrder } from './rows.ts';
import { statementCounter } from './statement-counter.ts';

const DAY = 24 * 3600 * 1000;

for (const dialect of DIALECTS) {
  const skip = await skipFor(dialect);

  describe(`payment-server store on ${dialect}`, { skip }, () => {
    const kit = async (t: TestContext) => {
      const store = await freshStore<PayserverTables>(dialect, payserverMigrations, 10, t);
      const { ledger, clock, open } = await ledgerOn(store.db);
      const wallet = await open('wallet');
      const balance = async (id: string) => {
        const r = await store.db
          .selectFrom('ledger_accounts')
          .selectAll()
          .where('id', '=', id)
          .executeTakeFirstOrThrow();
        return { balance: Number(r.balance_minor), held: Number(r.held_minor) };
      };
      return { ...store, ledger, clock, open, wallet, balance };
    };

    it("reads a phone's account and its active agreements, signed last first, in one statement", async (t) => {
      const k = await kit(t);
      const phone = '+8613800138123';
      assert.deepEqual(await agreementStore.payersOfPhone(k.db, phone), { account: undefined, agreements: [] });
      const agreement = (no: string, status: 'active' | 'ended', signedAt: string, p = phone) => ({
        external_agreement_no: no,
        rail: 'alipay' as const,
        phone: p,
        status,
        agreement_no: `ag-${no}`,
        payment_id: null,
        created_at: '2026-01-01T00:00:00.000Z',
        signed_at: signedAt,
        ended_at: status === 'ended' ? '2026-01-04T00:00:00.000Z' : null,
        ended_by: status === 'ended' ? 'rail' : null,
      });
      const older = agreement('qa1', 'active', '2026-01-02T00:00:00.000Z');
      const newer = agreement('qa2', 'active', '2026-01-03T00:00:00.000Z');
      for (const a of [older, newer, agreement('qa3', 'ended', '2026-01-05T00:00:00.000Z')])
        await agreementStore.insert(k.db, a);
      await agreementStore.insert(k.db, agreement('qa4', 'active', '2026-01-06T00:00:00.000Z', '+8613800138999'));
      assert.deepEqual(await agreementStore.payersOfPhone(k.db, phone), {
        account: undefined,
        agreements: [newer, older],
      });
      const account = {
        id: 'acc_payers',
        phone,
        currency: 'CNY',
        quick_pay: 1,
        created_at: '2026-01-01T00:00:00.000Z',
        quick_pay_at: '2026-01-02T12:00:00.000Z',
      };
      await accountStore.insert(k.db, account);
      assert.deepEqual(await agreementStore.payersOfPhone(k.db, phone), { account, agreements: [newer, older] });
      assert.deepEqual(await agreementStore.payersOfPhone(k.db, '+8613800138999'), {
        account: undefined,
        agreements: [agreement('qa4', 'active', '2026-01-06T00:00:00.000Z', '+8613800138999')],
      });
      await k.dispose();
    });

    it('migrates a new store and says it created the store, and an existing one is left as it is', async (t) => {
      const k = await kit(t);
      const { migrate } = await import('../../src/lib/db/migrate.ts');
      assert.deepEqual(await migrate(k.db, payserverMigrations), { storeCreated: false });
      await k.dispose();
    });

    it('credits, reserves, captures, releases and refunds with postings that sum to zero', async (t) => {
      const k = await kit(t);
      await k.ledger.credit(k.db, k.wallet, 10_000, 'acc_1');
      const h1 = (await k.ledger.reserve(k.db, k.wallet, 4000, 'pay_1'))!;
      const h2 = (await k.ledger.reserve(k.db, k.wallet, 3000, 'pay_2'))!;
      assert.equal(await k.ledger.reserve(k.db, k.wallet, 3001, 'pay_3'), null);
      assert.deepEqual(await k.balance(k.wallet), { balance: 10_000, held: 7000 });
      assert.equal(await k.ledger.capture(k.db, h1), true);
      assert.equal(await k.ledger.capture(k.db, h1), false);
      assert.equal(await k.ledger.release(k.db, h2), true);
      assert.equal(await k.ledger.release(k.db, h2), false);
      assert.deepEqual(await k.balance(k.wallet), { balance: 6000, held: 0 });
      await k.ledger.refund(k.db, h1, 'pay_1');
      assert.deepEqual(await k.balance(k.wallet), { balance: 10_000, held: 0 });
      const sum = await k.db
        .selectFrom('postings')
        .select((eb) => eb.fn.sum<number>('amount_minor').as('s'))
        .executeTakeFirstOrThrow();
      assert.equal(Number(sum.s), 0);
      await k.dispose();
    });

    it('writes a journal entry with its two postings: one statement on PostgreSQL, two on SQLite', async (t) => {
      const k = await kit(t);
      await k.ledger.credit(k.db, k.wallet, 10_000, 'first');
      const counted = statementCounter(k.db);
      await k.ledger.credit(counted.db, k.wallet, 500, 'second');
      // The account read, the external account's insert-if-missing, the two balance moves, then the entry.
      assert.equal(counted.statements(), dialect === 'postgres' ? 5 : 6, 'statements of one credit');
      const entry = await k.db
        .selectFrom('journal_entries')
        .selectAll()
        .where('ref', '=', 'second')
        .executeTakeFirstOrThrow();
      const postings = await k.db.selectFrom('postings').selectAll().where('entry_id', '=', entry.id).execute();
      assert.deepEqual(
        postings.map((p) => [p.ledger_account_id, Number(p.amount_minor)]).sort(),
        [
          ['la_external_CNY', -500],
          [k.wallet, 500],
        ].sort(),
        'the entry with both of its postings',
      );
      assert.deepEqual(await k.balance(k.wallet), { balance: 10_500, held: 0 });
      await k.dispose();
    });

    it("writes a capture's credit to the merchant at the end of its unit of work: another capture to the same row commits meanwhile, and a rollback leaves the row as it was", async (t) => {
      const k = await kit(t);
      const [pay0, pay1, pay2, pay3] = samePayments(4) as [string, string, string, string];
      const merchant = merchantSubAccount('CNY', pay1);
      const other = await k.open('wallet');
      await k.ledger.credit(k.db, k.wallet, 10_000, 'seed');
      await k.ledger.credit(k.db, other, 10_000, 'seed');
      // The merchant's row exists once its first capture has committed: until then a second would wait for it.
      await inTransaction(k.db, async (trx) => k.ledger.capture(trx, (await k.ledger.reserve(trx, other, 500, pay0))!));
      const h1 = (await k.ledger.reserve(k.db, k.wallet, 1000, pay1))!;
      const h2 = (await k.ledger.reserve(k.db, other, 2000, pay2))!;
      const h3 = (await k.ledger.reserve(k.db, k.wallet, 4000, pay3))!;
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let captured!: (balance: number) => void;
      const capturedInside = new Promise<number>((r) => (captured = r));
      const first = inTransaction(k.db, async (trx) => {
        await k.ledger.capture(trx, h1);
        const inside = await trx.selectFrom('ledger_accounts').select('balance_minor').where('id', '=', merchant);
        captured(Number((await inside.executeTakeFirst())?.balance_minor ?? 0));
        await held;
      });
      try {
        assert.equal(await capturedInside, 500, 'inside its unit of work the capture has not yet written the credit');
        if (dialect === 'postgres') {
          // The first unit of work is still open: the merchant's row is not locked by it yet.
          const second = await Promise.race([
            inTransaction(k.db, (trx) => k.ledger.capture(trx, h2)),
            new Promise<'waited'>((r) => setTimeout(() => r('waited'), 5000).unref()),
          ]);
          assert.equal(second, true, 'the second capture commits without waiting for the first');
        }
      } finally {
        release();
      }
      await first;
      if (dialect === 'sqlite') await inTransaction(k.db, (trx) => k.ledger.capture(trx, h2));
      assert.deepEqual(await k.balance(merchant), { balance: 3500, held: 0 });
      await assert.rejects(
        inTransaction(k.db, async (trx) => {
          await k.ledger.capture(trx, h3);
          throw new Error('rolled back');
        }),
        /rolled back/,
      );
      assert.deepEqual(await k.balance(merchant), { balance: 3500, held: 0 }, 'the rolled-back credit is not there');
      assert.deepEqual(await k.balance(k.wallet), { balance: 9000, held: 4000 }, 'the third hold is still held');
      await k.dispose();
    });

    it('holds the lock of an order ended before its start as never_started, which refuses the late start and has no page', async (t) => {
      const k = await kit(t);
      const now = k.clock.now().toISOString();
      await checkoutStore.closeBeforeStart(k.db, 'ord_early', 'hash_never_given', now);
      assert.equal(await checkoutStore.statusOf(k.db, 'ord_early'), 'never_started');
      assert.equal(await checkoutStore.byLinkTokenHash(k.db, 'hash_never_given'), undefined);
      await checkoutStore.ensure(k.db, {
        orderId: 'ord_early',
        linkTokenHash: 'hash_late',
        phone: '+8613800138000',
        amountMinor: 100,
        currency: 'CNY',
        productTitle: 'x',
        payee: 'tvpay',
        deviceId: 'dev_1',
        expiresAt: now,
        now: k.clock.now(),
      });
      assert.equal(await checkoutStore.take(k.db, 'ord_early', '+8613800138000', 1), false);
      assert.equal(await checkoutStore.statusOf(k.db, 'ord_early'), 'never_started');
      assert.deepEqual(await checkoutStore.dueToExpire(k.db, '9999', 10), []);
    });

    it("reads a code SMS's payment with the phone's other pending codes: one statement on PostgreSQL, two on SQLite", async (t) => {
      const k = await kit(t);
      const phone = '+8613800138000';
      const pay = (id: string, more: Partial<Parameters<typeof newPayment>[0]> = {}) =>
        paymentStore.insert(
          k.db,
          newPayment({
            ...{ id, order_id: `ord_${id}`, attempt: 1, method: 'sms_code', phone, amount_minor: 100 },
            ...{ currency: 'CNY', status: 'pending', created_at: k.clock.now().toISOString(), ...more },
          }),
        );
      await pay('pay_me', { code_hash: 'mine' });
      await pay('pay_other', { code_hash: 'h_other', amount_minor: 250 });
      await pay('pay_no_code');
      await pay('pay_done', { code_hash: 'h_done', status: 'captured' });
      await pay('pay_elsewhere', { code_hash: 'h_elsewhere', phone: '+8613900139000' });
      const counted = statementCounter(k.db);
      const read = await paymentStore.forCodeSms(counted.db, 'pay_me');
      assert.equal(counted.statements(), dialect === 'postgres' ? 1 : 2, 'statements of the read');
      assert.equal(read?.payment.id, 'pay_me');
      assert.deepEqual(
        read?.otherCodes,
        [{ id: 'pay_other', amount_minor: 250, phone, code_hash: 'h_other' }],
        "only the phone's other pending payments that have a code",
      );
      const ended = await paymentStore.forCodeSms(k.db, 'pay_done');
      assert.deepEqual([ended?.payment.status, ended?.otherCodes], ['captured', []], 'none for a payment not pending');
      assert.equal(await paymentStore.forCodeSms(k.db, 'pay_missing'), undefined);
      await k.dispose();
    });

    it('takes a hold in one statement on PostgreSQL (two on SQLite), and writes no hold when the balance is short', async (t) => {
      const k = await kit(t);
      await k.ledger.credit(k.db, k.wallet, 5000, 'acc_1');
      const counted = statementCounter(k.db);
      const hold = await k.ledger.reserve(counted.db, k.wallet, 3000, 'pay_1');
      assert.equal(counted.statements(), dialect === 'postgres' ? 1 : 2, 'statements of a hold taken');
      const row = await k.db.selectFrom('holds').selectAll().where('id', '=', hold!).executeTakeFirstOrThrow();
      assert.deepEqual(
        [row.ledger_account_id, row.payment_id, Number(row.amount_minor), Number(row.refunded_minor), row.status],
        [k.wallet, 'pay_1', 3000, 0, 'held'],
      );
      assert.equal(row.resolved_at, null);
      assert.equal(await k.ledger.reserve(counted.db, k.wallet, 2001, 'pay_2'), null, 'more than is available');
      assert.equal(counted.statements(), dialect === 'postgres' ? 2 : 3, 'a refused hold is one statement');
      assert.equal((await k.db.selectFrom('holds').selectAll().execute()).length, 1, 'no row for the refused hold');
      assert.deepEqual(await k.balance(k.wallet), { balance: 5000, held: 3000 });
      await k.dispose();
    });

    it('never lets concurrent reserves hold more than the balance', async (t) => {
      const k = await kit(t);
      await k.ledger.credit(k.db, k.wallet, 10_000, 'acc_1');
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          k.db.transaction().execute((trx) => k.ledger.reserve(trx, k.wallet, 1000, `pay_${i}`)),
        ),
      );
      assert.equal(results.filter(Boolean).length, 10);
      assert.deepEqual(await k.balance(k.wallet), { balance: 10_000, held: 10_000 });
      const holds = await k.db.selectFrom('holds').select('id').execute();
      assert.deepEqual(holds.map((h) => h.id).sort(), results.filter(Boolean).sort(), 'a hold row for each hold taken');
      await k.dispose();
    });

    it('resolves a hold once when captures and releases race', async (t) => {
      const k = await kit(t);
      await k.ledger.credit(k.db, k.wallet, 10_000, 'acc_1');
      const hold = (await k.ledger.reserve(k.db, k.wallet, 5000, 'pay_1'))!;
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          k.db.transaction().execute((trx) => (i % 2 ? k.ledger.capture(trx, hold) : k.ledger.release(trx, hold))),
        ),
      );
      assert.equal(results.filter(Boolean).length, 1);
      const { balance, held } = await k.balance(k.wallet);
      assert.equal(held, 0);
      assert.ok(balance === 5000 || balance === 10_000, 'balance === 5000 || balance === 10_000');
      await k.dispose();
    });

    it('refuses by constraint any balance below what is held', async (t) => {
      const k = await kit(t);
      await assert.rejects(
        k.db.updateTable('ledger_accounts').set({ balance_minor: -5 }).where('id', '=', k.wallet).execute(),
      );
      await k.dispose();
    });
  });

  describe(`shared stores (outbox, rate limits, SMS log) on ${dialect}`, { skip }, () => {
    const kit = async (t: TestContext) => {
      const store = await freshStore<PayserverTables>(dialect, payserverMigrations, 10, t);
      const common = store.db as unknown as Kysely<CommonTables>;
      return { ...store, common, clock: new ManualClock() };
    };

    it('delivers each outbox message once even with two workers racing', async (t) => {
      const k = await kit(t);
      const seen: string[] = [];
      for (let i = 0; i < 30; i++)
        await enqueue(k.common, { id: `m${i}`, topic: T, payload: { i }, now: k.clock.now() });
      const handler = async (_p: unknown, id: string) => {
        seen.push(id);
        await new Promise((r) => setTimeout(r, 1));
      };
      const log = createLogger('silent');
      const w1 = new OutboxWorker(k.common, k.clock, log, { batch: 5, dialect });
      const w2 = new OutboxWorker(k.common, k.clock, log, { batch: 5, dialect });
      w1.start([handlerOf(T, handler)]);
      w2.start([handlerOf(T, handler)]);
      // Both deliver as they would in two instances, until nothing is left.
      for (let pass = 0; pass < 50 && seen.length < 30; pass++) await Promise.all([w1.drain(), w2.drain()]);
      await Promise.all([w1.stop(), w2.stop()]);
      assert.equal(seen.length, 30);
      assert.equal(new Set(seen).size, 30);
      const left = await k.common.selectFrom('outbox').select('id').where('status', '!=', 'done').execute();
      assert.deepEqual(left, []);
      await k.dispose();
    });

    it('counts rate-limit hits atomically and refuses the one over the limit', async (t) => {
      const k = await kit(t);
      const limiter = new RateLimiter(k.common, k.clock);
      const rule = { what: 'tries', limit: 5, windowSeconds: 60 };
      const outcomes = await Promise.allSettled(
        Array.from({ length: 8 }, () => limiter.hit([{ key: 'phone:+86', rule }])),
      );
      assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 5);
      k.clock.advance(61_000);
      await limiter.hit([{ key: 'phone:+86', rule }]);
      k.clock.advance(2 * DAY);
      await limiter.prune();
      const rows = await k.common.selectFrom('rate_limits').selectAll().execute();
      assert.equal(rows.length, 0);
      await k.dispose();
    });

    it("takes all of a request's buckets at once: exactly each limit gets through, a refused request counts nowhere", async (t) => {
      const k = await kit(t);
      const limiter = new RateLimiter(k.common, k.clock);
      const tight = { what: 'tries for this phone', limit: 4, windowSeconds: 60 };
      const loose = { what: 'tries for this TV', limit: 1000, windowSeconds: 600 };
      const day = { what: 'tries today', limit: 1000, windowSeconds: 86_400 };
      // Each request names the same buckets in a different order: one statement takes them all either way.
      const outcomes = await Promise.allSettled(
        Array.from({ length: 12 }, (_, i) =>
          limiter.hit(
            i % 2
              ? [
                  { key: 'tv:1', rule: loose },
                  { key: 'phone:+86', rule: tight },
                  { key: 'day', rule: day },
                ]
              : [
                  { key: 'day', rule: day },
                  { key: 'phone:+86', rule: tight },
                  { key: 'tv:1', rule: loose },
                ],
          ),
        ),
      );
      assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 4);
      const hits = Object.fromEntries(
        (await k.common.selectFrom('rate_limits').selectAll().execute()).map((r) => [r.bucket, Number(r.hits)]),
      );
      assert.deepEqual(
        hits,
        { day: 4, 'phone:+86': 4, 'tv:1': 4 },
        'the 8 refused requests were given back everywhere',
      );
      await k.dispose();
    });

    it('queues an SMS and the outbox message that sends it together: one statement on PostgreSQL, two on SQLite', async (t) => {
      const k = await kit(t);
      const SEND = topic<{ smsId: string }>('sms.test');
      const counted = statementCounter(k.common);
      const random = { id: (prefix: string) => `${prefix}_1`, token: () => 'x' } as unknown as RandomSource;
      const sms = { kind: 'code', to: '+8613800138000', from: '10690000', now: k.clock.now(), ref: 'pay_1' };
      const send = { topic: SEND, payload: (smsId: string) => ({ smsId }), correlationId: 'req-1' };
      const smsId = await queueSms(counted.db, random, sms, send);
      assert.equal(counted.statements(), dialect === 'postgres' ? 1 : 2, 'statements written for one queued SMS');
      const row = await smsLog.byId(k.common, smsId);
      assert.deepEqual([row?.status, row?.ref, row?.to_phone], ['queued', 'pay_1', '+8613800138000']);
      const message = await k.common.selectFrom('outbox').selectAll().executeTakeFirstOrThrow();
      assert.deepEqual(
        [message.id, message.topic, JSON.parse(message.payload), message.status, message.correlation_id],
        ['obx_1', 'sms.test', { smsId }, 'pending', 'req-1'],
      );
      // Rolled back, neither row stays.
      const again = { id: (prefix: string) => `${prefix}_2`, token: () => 'x' } as unknown as RandomSource;
      await assert.rejects(
        k.common.transaction().execute(async (trx) => {
          await queueSms(trx, again, sms, send);
          throw new Error('rolled back');
        }),
        /rolled back/,
      );
      assert.equal(await smsLog.byId(k.common, 'sms_2'), undefined, 'no SMS of a rolled-back transaction');
      const left = await k.common.selectFrom('outbox').select('id').execute();
      assert.deepEqual(left, [{ id: 'obx_1' }], 'no message of a rolled-back transaction');
      await k.dispose();
    });

    it('moves an SMS delivery state only forward', async (t) => {
      const k = await kit(t);
      await smsLog.queued(k.common, {
        id: 'sms_1',
        kind: 'code',
        to: '+8613800138000',
        from: '10690000',
        now: k.clock.now(),
      });
      assert.equal(await smsLog.advance(k.common, 'sms_1', 'sent', k.clock.now()), true);
      assert.equal(await smsLog.advance(k.common, 'sms_1', 'delivered', k.clock.now()), true);
      assert.equal(await smsLog.advance(k.common, 'sms_1', 'failed', k.clock.now()), false);
      assert.equal(await smsLog.advance(k.common, 'sms_1', 'sent', k.clock.now()), false);
      assert.equal((await smsLog.byId(k.common, 'sms_1'))?.status, 'delivered');
      await k.dispose();
    });

    it('moves the SMS told within one tick in one statement, each forward only and with its own gateway id', async (t) => {
      const k = await kit(t);
      for (const id of ['sms_a', 'sms_b', 'sms_c'])
        await smsLog.queued(k.common, { id, kind: 'code', to: '+8613800138000', from: '10690000', now: k.clock.now() });
      assert.equal(await smsLog.advance(k.common, 'sms_c', 'delivered', k.clock.now()), true);
      const now = k.clock.now();
      const sent = await Promise.all([
        smsLog.advanceSoon(k.common, 'sms_a', 'sent', now, 'gw-a'),
        smsLog.advanceSoon(k.common, 'sms_b', 'sent', now),
        smsLog.advanceSoon(k.common, 'sms_c', 'sent', now, 'gw-c'),
        smsLog.advanceSoon(k.common, 'sms_a', 'sent', now, 'gw-a'),
      ]);
      assert.deepEqual(sent, [true, true, false, false], 'delivered stays delivered; told twice, moved once');
      const a = await smsLog.byId(k.common, 'sms_a');
      const b = await smsLog.byId(k.common, 'sms_b');
      const c = await smsLog.byId(k.common, 'sms_c');
      assert.deepEqual([a?.status, a?.gateway_id], ['sent', 'gw-a']);
      assert.deepEqual([b?.status, b?.gateway_id], ['sent', null]);
      assert.deepEqual([c?.status, c?.gateway_id], ['delivered', null]);
      const delivered = await Promise.all(
        ['sms_a', 'sms_b'].map((id) => smsLog.advanceSoon(k.common, id, 'delivered', k.clock.now())),
      );
      assert.deepEqual(delivered, [true, true]);
      assert.equal((await smsLog.byId(k.common, 'sms_a'))?.gateway_id, 'gw-a', 'a report keeps the gateway id');
      await k.dispose();
    });
  });

  describe(`back-end store on ${dialect}`, { skip }, () => {
    const kit = async (t: TestContext) => {
      const store = await freshStore<BackendTables>(dialect, backendMigrations, 10, t);
      const clock = new ManualClock();
      await insertTvOrder(store.db, clock.now().toISOString());
      return { ...store, clock };
    };

    it('moves an order only forward and only once when moves race', async (t) => {
      const k = await kit(t);
      assert.ok(await moveOrder(k.db, 'ord_1', 'awaiting_payment', k.clock.now()), 'moved, and the order returned');
      const racers = await Promise.all(
        (['paid', 'cancelled', 'expired', 'paid', 'cancelled'] as const).map((to) =>
          k.db.transaction().execute((trx) => moveOrder(trx, 'ord_1', to, k.clock.now())),
        ),
      );
      assert.equal(racers.filter(Boolean).length, 1);
      const status = (await findOrder(k.db, 'ord_1'))!.status;
      assert.ok(['paid', 'cancelled', 'expired'].includes(status), "['paid', 'cancelled', 'expired'].includes(status)");
      assert.equal(await moveOrder(k.db, 'ord_1', 'created', k.clock.now()), undefined);
      await k.dispose();
    });

    it('guards a move by attempt', async (t) => {
      const k = await kit(t);
      await k.db
        .updateTable('orders')
        .set({ status: 'awaiting_payment', attempt: 2 })
        .where('id', '=', 'ord_1')
        .execute();
      assert.equal(await moveOrder(k.db, 'ord_1', 'failed', k.clock.now(), {}, { attempt: 1 }), undefined);
      assert.equal((await moveOrder(k.db, 'ord_1', 'failed', k.clock.now(), {}, { attempt: 2 }))?.status, 'failed');
      await k.dispose();
    });

    it('writes the timeline entry of each change with the change (one statement on PostgreSQL), and none without it', async (t) => {
      const k = await kit(t);
      await k.db
        .updateTable('orders')
        .set({ expires_at: '2100-01-01T00:00:00.000Z' })
        .where('id', '=', 'ord_1')
        .execute();
      const taken = await correlation.run('req-1', () => takePayer(k.db, 'ord_1', '+8613800138000', k.clock.now()));
      assert.equal(taken?.attempt, 1);
      assert.equal(taken?.payer_phone, '+8613800138000');
      k.clock.advance(1000);
      const channel = await setChannel(k.db, 'ord_1', 1, 'sms_confirm', k.clock.now(), 5);
      assert.equal(channel?.tries_left, 5);
      assert.equal(await setChannel(k.db, 'ord_1', 1, 'wap_link', k.clock.now()), undefined, 'once per attempt');
      k.clock.advance(1000);
      const failed = await moveOrder(k.db, 'ord_1', 'failed', k.clock.now(), { failure_code: 'X' }, { attempt: 1 });
      assert.equal(failed?.failure_code, 'X');
      assert.equal(await moveOrder(k.db, 'ord_1', 'paid', k.clock.now()), undefined);
      const entries = await orderTimeline.of(k.db, 'ord_1');
      assert.deepEqual(
        entries.map((e) => [e.kind, e.summary, e.attempt, e.correlationId, e.channel, e.failureCode]),
        [
          ['status', 'awaiting_payment', 1, 'req-1', undefined, undefined],
          ['message', 'bound: pre-pay sent to the payment server', 1, undefined, 'sms_confirm', undefined],
          ['status', 'failed', undefined, undefined, undefined, 'X'],
        ],
      );
      await k.dispose();
    });

    it("moves an order only at the guarded price, writes the move's further notes with its entry, and raises its version", async (t) => {
      const k = await kit(t);
      const price = { amountMinor: 100, currency: 'CNY' };
      const note = {
        at: k.clock.now(),
        kind: 'message' as const,
        summary: 'payment.completed applied',
        detail: { n: 1 },
      };
      const wrong = await moveOrder(
        k.db,
        'ord_1',
        'paid',
        k.clock.now(),
        {},
        { price: { ...price, amountMinor: 99 } },
        [note],
      );
      assert.equal(wrong, undefined, 'another price does not move it');
      const paid = await moveOrder(k.db, 'ord_1', 'paid', k.clock.now(), { payment_id: 'pay_1' }, { price }, [note]);
      assert.equal(paid?.status, 'paid');
      assert.equal(paid?.version, 1, 'the move raised the version from 0');
      const entries = await orderTimeline.of(k.db, 'ord_1');
      assert.deepEqual(
        entries.map((e) => [e.kind, e.summary, e.n]),
        [
          ['status', 'paid', undefined],
          ['message', 'payment.completed applied', 1],
        ],
      );
      await k.dispose();
    });

    it('gives each move its own timeline ids, times, details and values when its statement is built once', async (t) => {
      const k = await kit(t);
      const moves = [1, 2, 3].map((n) => ({ n, at: new Date(k.clock.now().getTime() + n * 1000) }));
      for (const { n, at } of moves) {
        const note = { at, kind: 'message' as const, summary: `note ${n}`, detail: { n } };
        const moved = await correlation.run(`req-${n}`, () =>
          moveOrder(k.db, 'ord_1', 'awaiting_payment', at, { payer_phone: `+861380013800${n}` }, {}, [note]),
        );
        assert.equal(moved?.payer_phone, `+861380013800${n}`, 'the move sets its own value');
      }
      const rows = await k.db.selectFrom('order_timeline').selectAll().where('order_id', '=', 'ord_1').execute();
      assert.equal(new Set(rows.map((r) => r.id)).size, 6, 'a new id for each of the six entries');
      const seen = rows
        .map((r) => [r.at, r.summary, JSON.parse(r.detail ?? '{}') as Record<string, unknown>] as const)
        .map(([at, summary, detail]) => [at, summary, detail.n, detail.correlationId])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0])) || String(a[1]).localeCompare(String(b[1])));
      assert.deepEqual(
        seen,
        moves.flatMap(({ n, at }) => [
          [at.toISOString(), 'awaiting_payment', undefined, `req-${n}`],
          [at.toISOString(), `note ${n}`, n, `req-${n}`],
        ]),
      );
      await k.dispose();
    });

    it('grants an entitlement and extends an active one from its end', async (t) => {
      const k = await kit(t);
      const order = { accountId: 'sub_1', service: 'vip', productId: 'vip', orderId: 'ord_1', durationDays: 30 };
      await grantEntitlement(k.db, order, k.clock.now());
      await grantEntitlement(k.db, { ...order, orderId: 'ord_2' }, new Date(k.clock.now().getTime() + 10 * DAY));
      const [e] = await listEntitlements(k.db, 'sub_1');
      assert.equal(e!.orderId, 'ord_2');
      assert.equal(Date.parse(e!.validUntil) - Date.parse(e!.validFrom), 60 * DAY);
      assert.equal(
        e!.validUntil,
        new Date(k.clock.now().getTime() + 60 * DAY).toISOString(),
        'written as toISOString()',
      );
      await grantEntitlement(k.db, { ...order, orderId: 'ord_3' }, new Date(k.clock.now().getTime() + 100 * DAY));
      const [late] = await listEntitlements(k.db, 'sub_1');
      assert.equal(
        Date.parse(late!.validUntil) - Date.parse(late!.validFrom),
        30 * DAY,
        'a lapsed service starts again from now',
      );
      await k.dispose();
    });
  });
}

/** `n` payment ids whose captures credit the same merchant sub-account. */
function samePayments(n: number): string[] {
  const ids = Array.from({ length: 64 * n }, (_, i) => `pay_${i}`);
  return ids.filter((id) => merchantSubAccount('CNY', id) === merchantSubAccount('CNY', ids[0]!)).slice(0, n);
}

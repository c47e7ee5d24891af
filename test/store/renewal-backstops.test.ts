import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import type { BackendTables } from '../../src/backend/schema.ts';
import { backendMigrations } from '../../src/backend/migrations/index.ts';
import { subscriptionStore, type SubscriptionRow } from '../../src/backend/subscriptions/subscription-store.ts';
import { DIALECTS, freshStore, skipFor } from './dialects.ts';
import { capturePlans } from './query-plans.ts';
import { orderRow } from './rows.ts';

type OrderRow = BackendTables['orders'];
const DAY = '2026-12-31T16:00:00.000Z';

/** A failed renewal order, paid by phone with consent to renew. */
const order = (id: string, over: Partial<OrderRow>): OrderRow =>
  orderRow(id, DAY, {
    account_id: 'acct_1',
    status: 'failed',
    channel: 'renewal',
    payer_phone: '+8613900000000',
    attempt: 1,
    renewal_consent: 1,
    renews: 1,
    ...over,
  });

const subscription = (id: string, over: Partial<SubscriptionRow>): SubscriptionRow => ({
  id,
  account_id: `acct_${id}`,
  device_id: 'dev_1',
  product_id: 'vip',
  service: 'vip',
  title: 'VIP',
  amount_minor: 100,
  currency: 'CNY',
  duration_days: 30,
  payer_phone: '+8613900000000',
  status: 'active',
  current_period_end: DAY,
  next_charge_at: DAY,
  failed_tries: 0,
  pending_order_id: null,
  noticed_for: null,
  cancelled_at: null,
  created_at: DAY,
  updated_at: DAY,
  ...over,
});

/**
 * The scheduler's slow steps (once a minute) on renewal day: the notices not yet sent, and the backstop
 * that finds a renewal whose order ended unpaid without its failure recorded. Each used to walk every
 * active subscription (320 and 160 ms at 100,000, all of it on the event loop every TV's call waits on).
 */
for (const dialect of DIALECTS) {
  describe(`the renewal scheduler's slow steps on ${dialect}`, { skip: await skipFor(dialect) }, () => {
    const kit = async (t: TestContext) => {
      const store = await freshStore<BackendTables>(dialect, backendMigrations, 4, t);
      await store.db
        .insertInto('devices')
        .values({ id: 'dev_1', name: 'TV', account_id: 'acct_1', token_hash: 'h', created_at: DAY })
        .execute();
      return store;
    };

    it('finds the subscriptions whose notice is due and not yet sent for this period, soonest first, and no other', async (t) => {
      const { db } = await kit(t);
      await db
        .insertInto('subscriptions')
        .values([
          subscription('sub_due_later', { current_period_end: '2027-01-05T16:00:00.000Z' }),
          subscription('sub_due', { current_period_end: '2027-01-02T16:00:00.000Z' }),
          subscription('sub_noticed_before', {
            current_period_end: '2027-01-03T16:00:00.000Z',
            noticed_for: '2026-12-03T16:00:00.000Z',
          }),
          subscription('sub_noticed', {
            current_period_end: '2027-01-02T16:00:00.000Z',
            noticed_for: '2027-01-02T16:00:00.000Z',
          }),
          subscription('sub_failing', { current_period_end: '2027-01-02T16:00:00.000Z', failed_tries: 1 }),
          subscription('sub_cancelled', { current_period_end: '2027-01-02T16:00:00.000Z', status: 'cancelled' }),
          subscription('sub_not_yet', { current_period_end: '2027-02-01T16:00:00.000Z' }),
        ])
        .execute();
      const due = await subscriptionStore.dueForNotice(db, '2027-01-06T00:00:00.000Z', 10);
      assert.deepEqual(
        due.map((s) => s.id),
        ['sub_due', 'sub_noticed_before', 'sub_due_later'],
      );
      assert.deepEqual(
        (await subscriptionStore.dueForNotice(db, '2027-01-06T00:00:00.000Z', 2)).map((s) => s.id),
        ['sub_due', 'sub_noticed_before'],
      );
    });

    it('walks every renewal order that ended unpaid, page after page, and finds a subscription still waiting on one behind a full page', async (t) => {
      const { db } = await kit(t);
      const ended = Array.from({ length: 250 }, (_, i) =>
        order(`ord_${String(i).padStart(3, '0')}`, {
          status: (['failed', 'expired', 'cancelled'] as const)[i % 3],
          updated_at: `2027-01-01T00:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}.000Z`,
        }),
      );
      await db
        .insertInto('orders')
        .values([
          ...ended,
          order('ord_checkout_failed', { channel: 'sms_confirm' }),
          order('ord_renewal_waiting', { status: 'awaiting_payment' }),
          order('ord_renewal_paid', { status: 'fulfilled' }),
        ])
        .execute();
      await db
        .insertInto('subscriptions')
        .values([
          subscription('sub_stuck', { pending_order_id: 'ord_240' }),
          subscription('sub_in_flight', { pending_order_id: 'ord_renewal_waiting' }),
          subscription('sub_cancelled', { pending_order_id: 'ord_241', status: 'cancelled' }),
        ])
        .execute();

      const first = await subscriptionStore.renewalOrdersEnded(db, undefined, 200);
      assert.equal(first.length, 200);
      assert.deepEqual(
        await subscriptionStore.pendingOn(
          db,
          first.map((o) => o.id),
        ),
        [],
        'none waits on the first 200',
      );
      const last = first.at(-1)!;
      const second = await subscriptionStore.renewalOrdersEnded(db, { updatedAt: last.updated_at, id: last.id }, 200);
      assert.deepEqual(
        [...first, ...second].map((o) => o.id),
        ended.map((o) => o.id),
        'each ended renewal order once, oldest end first, and no other order',
      );
      assert.deepEqual(
        (
          await subscriptionStore.pendingOn(
            db,
            second.map((o) => o.id),
          )
        ).map((s) => s.id),
        ['sub_stuck'],
      );
    });

    it('orders two renewal orders that ended in the same millisecond by id, so a page boundary between them loses neither', async (t) => {
      const { db } = await kit(t);
      await db
        .insertInto('orders')
        .values([order('ord_b', {}), order('ord_a', {}), order('ord_c', {})])
        .execute();
      const first = await subscriptionStore.renewalOrdersEnded(db, undefined, 2);
      assert.deepEqual(
        first.map((o) => o.id),
        ['ord_a', 'ord_b'],
      );
      assert.deepEqual(
        (await subscriptionStore.renewalOrdersEnded(db, { updatedAt: DAY, id: 'ord_b' }, 2)).map((o) => o.id),
        ['ord_c'],
      );
    });

    it('gives a due charge to one claimant only, and a claim another open transaction holds is refused without waiting for it', async (t) => {
      const { db } = await kit(t);
      await db.insertInto('subscriptions').values(subscription('sub_due', {})).execute();
      const now = '2027-01-01T00:00:00.000Z';
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let claimed!: () => void;
      const claimedInside = new Promise<void>((r) => (claimed = r));
      // The first claimant's transaction stays open until the second claim has answered, then rolls back.
      const first = db
        .transaction()
        .execute(async (trx) => {
          assert.equal(await subscriptionStore.claimCharge(trx, 'sub_due', 'ord_first', now), true, 'first claim');
          claimed();
          await held;
          throw new Error('rolled back');
        })
        .catch((err: Error) => err.message);
      await claimedInside;
      try {
        if (dialect === 'postgres') {
          // On SQLite the one writer is inside the open transaction; on PostgreSQL a second claim runs beside it.
          const refused = await Promise.race([
            subscriptionStore.claimCharge(db, 'sub_due', 'ord_second', now),
            new Promise<'waited'>((r) => setTimeout(() => r('waited'), 5000).unref()),
          ]);
          assert.equal(refused, false, 'the second claim is refused at once, not held behind the open transaction');
        }
      } finally {
        release();
      }
      assert.equal(await first, 'rolled back');
      assert.equal(await subscriptionStore.claimCharge(db, 'sub_due', 'ord_third', now), true, 'due again');
      assert.equal(await subscriptionStore.claimCharge(db, 'sub_due', 'ord_fourth', now), false, 'claimed once');
      const [row] = await db.selectFrom('subscriptions').select('pending_order_id').execute();
      assert.equal(row?.pending_order_id, 'ord_third');
    });

    if (dialect === 'sqlite') {
      it('reads each by an index of only what it looks for, never by walking the active subscriptions (SQLite query plans)', async (t) => {
        const { db } = await kit(t);
        const { db: caught, planOfLast } = capturePlans(db);
        await subscriptionStore.dueForNotice(caught, DAY, 200);
        assert.match(
          await planOfLast(),
          /^SEARCH subscriptions USING INDEX subscriptions_notice_due \(status=\? AND current_period_end<\?\)$/,
        );
        await subscriptionStore.renewalOrdersEnded(caught, { updatedAt: DAY, id: 'ord_1' }, 200);
        assert.match(
          await planOfLast(),
          /^SEARCH orders USING (COVERING )?INDEX orders_renewal_ended \(channel=\? AND \(updated_at,id\)>\(\?,\?\)\)$/,
        );
        assert.doesNotMatch(await planOfLast(), /TEMP B-TREE/);
      });
    }
  });
}

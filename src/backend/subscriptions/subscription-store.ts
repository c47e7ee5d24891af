import { affected } from '../../lib/db/affected.ts';
import { moveRow, rowsWhere, rowWhere, tableRows } from '../../lib/db/rows.ts';
import { sql } from 'kysely';
import { onPostgres } from '../../lib/db/dialect-of.ts';
import { NOTICE_DUE, RENEWAL_ENDED, type BackendDb, type BackendTables } from '../schema.ts';

export type SubscriptionRow = BackendTables['subscriptions'];

const subscriptions = tableRows('subscriptions', 'id');

/**
 * The only place the `subscriptions` table is written and read. Status only
 * moves forward (active → cancelled | lapsed), and each change is a
 * conditional UPDATE, so two schedulers (two instances) never both act.
 */
export const subscriptionStore = {
  insert: subscriptions.insert,
  byId: subscriptions.byKey,

  async activeOf(db: BackendDb, accountId: string, service: string): Promise<SubscriptionRow | undefined> {
    return rowWhere(db, 'subscriptions', { account_id: accountId, service, status: 'active' });
  },

  async list(
    db: BackendDb,
    f: { accountId?: string; phone?: string; status?: string; limit?: number },
  ): Promise<SubscriptionRow[]> {
    let q = db
      .selectFrom('subscriptions')
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(f.limit ?? 200);
    if (f.accountId) q = q.where('account_id', '=', f.accountId);
    if (f.phone) q = q.where('payer_phone', '=', f.phone);
    if (f.status) q = q.where('status', '=', f.status as SubscriptionRow['status']);
    return q.execute();
  },

  /** A purchase or a renewal moved the period on: the next charge is at its end, the tries start over. */
  async extend(trx: BackendDb, id: string, periodEnd: string, amountMinor: number, now: string): Promise<void> {
    await moveRow(
      trx,
      'subscriptions',
      { id, status: 'active' },
      {
        current_period_end: periodEnd,
        next_charge_at: periodEnd,
        failed_tries: 0,
        pending_order_id: null,
        amount_minor: amountMinor,
        updated_at: now,
      },
    );
  },

  /**
   * Claims the due charge for one renewal order; whether this caller won it. Every instance's scheduler reads
   * the same due batch: on PostgreSQL a row another instance is claiming (locked by its open transaction) is
   * skipped at once, not waited for, so the instances spread over the batch instead of queueing behind each
   * other's commits (17 ms waits on renewal day). If that claim rolls back, the charge is still due next pass.
   */
  async claimCharge(trx: BackendDb, id: string, orderId: string, now: string): Promise<boolean> {
    const { numUpdatedRows } = await trx
      .updateTable('subscriptions')
      .set({ pending_order_id: orderId, updated_at: now })
      .where('id', '=', id)
      .where('status', '=', 'active')
      .where('pending_order_id', 'is', null)
      .where('next_charge_at', '<=', now)
      .$if(onPostgres(trx), (q) =>
        q.where('id', 'in', (eb) =>
          eb.selectFrom('subscriptions').select('id').where('id', '=', id).forUpdate().skipLocked(),
        ),
      )
      .executeTakeFirstOrThrow();
    return numUpdatedRows > 0n;
  },

  /** A renewal order that did not pay: the next try, or lapsed after the last; whether this caller recorded it. */
  async chargeFailed(
    trx: BackendDb,
    id: string,
    orderId: string,
    next: { nextChargeAt: string | null; lapse: boolean },
    now: string,
  ): Promise<boolean> {
    const res = await trx
      .updateTable('subscriptions')
      .set((eb) => ({
        pending_order_id: null,
        failed_tries: eb('failed_tries', '+', 1),
        next_charge_at: next.nextChargeAt,
        status: next.lapse ? ('lapsed' as const) : ('active' as const),
        updated_at: now,
      }))
      .where('id', '=', id)
      .where('status', '=', 'active')
      .where('pending_order_id', '=', orderId)
      .executeTakeFirst();
    return affected(res) === 1;
  },

  async cancel(trx: BackendDb, id: string, now: string): Promise<boolean> {
    const cancelled = { status: 'cancelled', cancelled_at: now, next_charge_at: null, updated_at: now } as const;
    return moveRow(trx, 'subscriptions', { id, status: 'active' }, cancelled);
  },

  /** Marks a period's notice sent, once. */
  async noticed(trx: BackendDb, id: string, periodEnd: string): Promise<boolean> {
    const res = await trx
      .updateTable('subscriptions')
      .set({ noticed_for: periodEnd })
      .where('id', '=', id)
      .where('status', '=', 'active')
      .where('current_period_end', '=', periodEnd)
      .where((eb) => eb.or([eb('noticed_for', 'is', null), eb('noticed_for', '!=', periodEnd)]))
      .executeTakeFirst();
    return affected(res) === 1;
  },

  /**
   * Active subscriptions whose notice is due (the period ends before `before`) and not yet sent: a range of
   * `subscriptions_notice_due`.
   */
  async dueForNotice(db: BackendDb, before: string, limit: number): Promise<SubscriptionRow[]> {
    return db
      .selectFrom('subscriptions')
      .selectAll()
      .where(sql.raw<boolean>(NOTICE_DUE))
      .where('current_period_end', '<=', before)
      .orderBy('current_period_end')
      .limit(limit)
      .execute();
  },

  /** Active subscriptions whose charge is due and not claimed, oldest due first. */
  async dueForCharge(db: BackendDb, now: string, limit: number): Promise<SubscriptionRow[]> {
    return db
      .selectFrom('subscriptions')
      .selectAll()
      .where('status', '=', 'active')
      .where('pending_order_id', 'is', null)
      .where('next_charge_at', '<=', now)
      .orderBy('next_charge_at')
      .limit(limit)
      .execute();
  },

  /**
   * The renewal orders that ended unpaid after `after` (by when they ended,
   * then id), up to `limit`: a range of `orders_renewal_ended`, so a page
   * costs what it returns, however many subscriptions are active.
   */
  async renewalOrdersEnded(
    db: BackendDb,
    after: { updatedAt: string; id: string } | undefined,
    limit: number,
  ): Promise<Array<{ id: string; updated_at: string }>> {
    return db
      .selectFrom('orders')
      .select(['id', 'updated_at'])
      .where(sql.raw<boolean>(RENEWAL_ENDED))
      .$if(after !== undefined, (q) =>
        q.where((eb) => eb(eb.refTuple('updated_at', 'id'), '>', eb.tuple(after!.updatedAt, after!.id))),
      )
      .orderBy('updated_at')
      .orderBy('id')
      .limit(limit)
      .execute();
  },

  /** The active subscriptions still waiting on one of these renewal orders. */
  async pendingOn(db: BackendDb, orderIds: string[]): Promise<SubscriptionRow[]> {
    if (orderIds.length === 0) return [];
    return rowsWhere(db, 'subscriptions', { status: 'active', pending_order_id: orderIds });
  },

  async activeOfPhone(db: BackendDb, phone: string): Promise<SubscriptionRow[]> {
    return rowsWhere(db, 'subscriptions', { payer_phone: phone, status: 'active' });
  },
};

import { sql } from 'kysely';
import { onPostgres } from '../../lib/db/dialect-of.ts';
import { inTurn, preparedQueries, preparedQuery } from '../../lib/db/prepared-query.ts';
import { compared, lowerRow, moveRow, rowsWhere, rowWhere, tableRows } from '../../lib/db/rows.ts';
import type { PayserverDb, PayserverTables } from '../schema.ts';

export type Payment = PayserverTables['payments'];
export type PaymentStatus = Payment['status'];

/** The methods of payments held on the wallet or card; the others (`scan`, `rail_page`) are rail payments. */
export const WALLET_METHODS = ['sms_code', 'page', 'renewal'] as const;

/** For each status of a payment, the statuses it may be reached from: it only moves forward. */
export const PAYMENT_PREDECESSORS: Readonly<Record<PaymentStatus, readonly PaymentStatus[]>> = {
  pending: [],
  captured: ['pending'],
  failed: ['pending'],
  released: ['pending'],
  refunded: ['captured'],
};

/**
 * A new payment's row: what is known when it starts (who pays what, for which attempt, how), the
 * rest at its zero (no code, no wrong replies, nothing refunded, not completed).
 */
export function newPayment(
  p: Pick<
    Payment,
    'id' | 'order_id' | 'attempt' | 'method' | 'phone' | 'amount_minor' | 'currency' | 'status' | 'created_at'
  > &
    Partial<Payment>,
): Payment {
  return {
    account_id: null,
    source: null,
    hold_id: null,
    failure_code: null,
    code_hash: null,
    code_expires_at: null,
    wrong_replies: 0,
    refunded_minor: 0,
    completed_at: null,
    external_agreement_no: null,
    ...p,
  };
}

/** What the wallet provider's payment list is filtered by (all optional but the page size). */
export interface PaymentFilter {
  paymentId?: string;
  orderId?: string;
  phone?: string;
  status?: PaymentStatus;
  source?: string;
  before?: { createdAt: string; id: string };
  limit: number;
}

const payments = tableRows('payments', 'id');

/**
 * The only place the `payments` table is written (and read): each payment
 * attempt at the payment server, by SMS code or on the checkout page. Every
 * status change is a conditional UPDATE from the allowed predecessors.
 */
/** A pending payment of a phone that has a code: what drawing a distinct code for another one compares with. */
export interface PendingCode {
  id: string;
  amount_minor: number;
  phone: string;
  code_hash: string;
}

/**
 * The other pending payments with a code of the phone of the `payments` row a statement selects, as one JSON
 * column of that statement (PostgreSQL): a code SMS's payment and the codes it must differ from in one read.
 */
const otherCodesColumn = sql<PendingCode[]>`(select coalesce(json_agg(json_build_object('id', "o"."id",
  'amount_minor', "o"."amount_minor", 'phone', "o"."phone", 'code_hash', "o"."code_hash")), '[]')
  from "payments" as "o" where "o"."phone" = "payments"."phone" and "o"."status" = 'pending'
  and "o"."id" <> "payments"."id" and "o"."code_hash" is not null)`;

/** A payment with its checkout's labels (product, payee, renewal period): what every SMS about it names. */
const withLabels = (db: PayserverDb, id: string) =>
  db
    .selectFrom('payments')
    .leftJoin('checkouts', 'checkouts.order_id', 'payments.order_id')
    .selectAll('payments')
    .select(['checkouts.product_title', 'checkouts.payee', 'checkouts.renews_days'])
    .where('payments.id', '=', id);

// The statements every checkout runs (forSms, forCodeSms, takeTries, pendingOfOrder), built and compiled once
// (preparedQuery): building them cost more of the payment server's CPU than any other store's.
const withLabelsAndSms = preparedQuery((db: PayserverDb, id: string, smsId: string) =>
  withLabels(db, id).select((eb) =>
    eb.selectFrom('sms_messages').select('sms_messages.status').where('sms_messages.id', '=', smsId).as('sms_status'),
  ),
);
const withLabelsAndOtherCodes = preparedQuery((db: PayserverDb, id: string) =>
  withLabels(db, id).select(otherCodesColumn.as('other_codes')),
);
const takeTriesOf = preparedQuery((db: PayserverDb, phone: string, now: string, maxWrong: number) =>
  db
    .updateTable('payments')
    .set((eb) => ({ wrong_replies: eb('wrong_replies', '+', 1) }))
    .where('phone', '=', phone)
    .where('status', '=', 'pending')
    .where('method', '=', 'sms_code')
    .where('code_hash', 'is not', null)
    .where('code_expires_at', '>', now)
    .where('wrong_replies', '<', maxWrong)
    .returningAll(),
);
/** pendingOfOrder's read: one shape for each of its optional filters given or not. */
const pendingReads = preparedQueries(4);
const pendingOf = (db: PayserverDb, orderId: string, beforeAttempt?: number, exceptId?: string) => {
  const before = beforeAttempt !== undefined;
  const except = exceptId !== undefined;
  const build = (d: PayserverDb, ...p: unknown[]) => {
    const next = inTurn(p);
    let q = d
      .selectFrom('payments')
      .selectAll()
      .where('order_id', '=', next<string>())
      .where('status', '=', 'pending')
      .where('method', 'in', [...WALLET_METHODS])
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('rail_trades').select('out_trade_no').whereRef('rail_trades.payment_id', '=', 'payments.id'),
          ),
        ),
      );
    if (before) q = q.where('attempt', '<', next<number>());
    if (except) q = q.where('id', '!=', next<string>());
    return q;
  };
  const params = [orderId, ...(before ? [beforeAttempt] : []), ...(except ? [exceptId] : [])];
  return pendingReads(db, `pending ${before} ${except}`, build, ...params);
};

export const paymentStore = {
  insert: payments.insert,
  byId: payments.byKey,

  /**
   * A payment with what an SMS about it names (its checkout's product, payee and renewal period), in one
   * read instead of two: every SMS about a payment is built from both (issue 30). With `smsId`, also that
   * SMS's delivery state, so a sender's once-only check costs no statement of its own.
   */
  async forSms(db: PayserverDb, id: string, smsId?: string) {
    return (await withLabelsAndSms(db, id, smsId ?? '')).rows[0];
  },

  /**
   * forSms for a payment's code SMS, with the phone's other pending codes (otherPendingCodes) when it is still
   * pending: one statement on PostgreSQL (issue 30), two on SQLite, which the payment's own read answers first.
   */
  async forCodeSms(trx: PayserverDb, id: string) {
    if (onPostgres(trx)) {
      const row = (await withLabelsAndOtherCodes(trx, id)).rows[0];
      if (!row) return undefined;
      const { other_codes: otherCodes, ...payment } = row;
      return { payment, otherCodes: payment.status === 'pending' ? otherCodes : [] };
    }
    const payment = await this.forSms(trx, id);
    if (!payment) return undefined;
    const otherCodes = payment.status === 'pending' ? await this.otherPendingCodes(trx, payment.phone, id) : [];
    return { payment, otherCodes };
  },

  /** The SMS-code (or renewal) payment of an order's attempt (a start is idempotent on it). */
  async smsPaymentOf(
    db: PayserverDb,
    orderId: string,
    attempt: number,
    method: 'sms_code' | 'renewal' = 'sms_code',
  ): Promise<Payment | undefined> {
    return rowWhere(db, 'payments', { order_id: orderId, attempt, method });
  },

  /**
   * Pending payments of the wallet's own methods of an order, optionally only of attempts before
   * `beforeAttempt`, or all but `exceptId`. A payment with a trade at a rail is not among them (a scan, a page
   * payment, a code payment or renewal already being charged under an agreement): it is not released here
   * but closed at its rail, and only what the rail answers ends it (it may have been paid meanwhile).
   */
  async pendingOfOrder(
    trx: PayserverDb,
    orderId: string,
    only: { beforeAttempt?: number; exceptId?: string } = {},
  ): Promise<Payment[]> {
    return (await pendingOf(trx, orderId, only.beforeAttempt, only.exceptId)).rows;
  },

  /** Moves a payment to `to` from an allowed predecessor; whether this call made the move. */
  async move(
    trx: PayserverDb,
    id: string,
    to: PaymentStatus,
    now: string,
    set: Partial<Pick<Payment, 'failure_code' | 'code_hash'>> = {},
  ): Promise<boolean> {
    const completed = to === 'refunded' ? {} : { completed_at: now };
    return moveRow(trx, 'payments', { id, status: PAYMENT_PREDECESSORS[to] }, { ...set, ...completed, status: to });
  },

  /**
   * Turns a capture made earlier in the same transaction into a release (its
   * order's checkout turned out closed): no other transaction ever saw it
   * captured, so this is not a move backwards.
   */
  async releaseInsteadOfCapture(trx: PayserverDb, id: string): Promise<void> {
    await moveRow(
      trx,
      'payments',
      { id, status: 'captured' },
      { status: 'released', failure_code: 'ORDER_CLOSED', code_hash: null },
    );
  },

  /** The other pending payments of the phone that have a code (each of the phone's pending codes differs). */
  async otherPendingCodes(trx: PayserverDb, phone: string, exceptId: string): Promise<PendingCode[]> {
    const rows = await trx
      .selectFrom('payments')
      .select(['id', 'amount_minor', 'phone', 'code_hash'])
      .where('phone', '=', phone)
      .where('status', '=', 'pending')
      .where('id', '!=', exceptId)
      .where('code_hash', 'is not', null)
      .execute();
    return rows.map((r) => ({ ...r, amount_minor: Number(r.amount_minor), code_hash: r.code_hash! }));
  },

  /** Stores a newly drawn code's hash while the payment is pending; whether it was. */
  async setCode(trx: PayserverDb, id: string, codeHash: string, expiresAt: string): Promise<boolean> {
    return moveRow(trx, 'payments', { id, status: 'pending' }, { code_hash: codeHash, code_expires_at: expiresAt });
  },

  /**
   * Takes one try from each pending payment of a phone whose code a reply may still check, in one
   * conditional UPDATE (finding them and taking their tries in one statement, issue 30); the payments that
   * gave one, newest first.
   */
  async takeTries(trx: PayserverDb, phone: string, now: string, maxWrong: number): Promise<Payment[]> {
    const { rows } = await takeTriesOf(trx, phone, now, maxWrong);
    return rows.sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0));
  },

  /** Gives back the tries a right code took. */
  async giveBackTry(trx: PayserverDb, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await lowerRow(trx, 'payments', { id: ids }, 'wrong_replies', 1);
  },

  /**
   * Counts a refund of `amount` against a captured payment, in one
   * conditional UPDATE, so refunds racing on several instances can never
   * give back more than was captured. Returns what has been refunded in all
   * (this one included), or undefined when it would be more than captured.
   */
  async takeRefund(trx: PayserverDb, id: string, amount: number): Promise<number | undefined> {
    const row = await trx
      .updateTable('payments')
      .set((eb) => ({ refunded_minor: eb('refunded_minor', '+', amount) }))
      .where('id', '=', id)
      .where('status', '=', 'captured')
      .where((eb) => eb(eb('refunded_minor', '+', amount), '<=', eb.ref('amount_minor')))
      .returning('refunded_minor')
      .executeTakeFirst();
    return row ? Number(row.refunded_minor) : undefined;
  },

  /** Gives back what a refund that failed had counted against a captured payment. */
  async giveBackRefund(trx: PayserverDb, id: string, amount: number): Promise<void> {
    await lowerRow(trx, 'payments', { id }, 'refunded_minor', amount);
  },

  /** An order's payments, oldest first (operators trace an order with them). */
  async ofOrder(db: PayserverDb, orderId: string): Promise<Payment[]> {
    return rowsWhere(db, 'payments', { order_id: orderId }, ['created_at', 'id']);
  },

  /**
   * Payments newest first for the wallet provider's list, filtered by what an operator searches
   * with; `before` is the last payment of the previous page (keyset paging: no row repeats or is
   * skipped while new payments arrive).
   */
  async list(db: PayserverDb, filter: PaymentFilter): Promise<Payment[]> {
    let q = db.selectFrom('payments').selectAll();
    if (filter.paymentId) q = q.where('id', '=', filter.paymentId);
    if (filter.orderId) q = q.where('order_id', '=', filter.orderId);
    if (filter.phone) q = q.where('phone', '=', filter.phone);
    if (filter.status) q = q.where('status', '=', filter.status);
    if (filter.source) q = q.where('source', '=', filter.source as Payment['source']);
    const before = filter.before;
    if (before)
      q = q.where((eb) =>
        eb.or([
          eb('created_at', '<', before.createdAt),
          eb.and([eb('created_at', '=', before.createdAt), eb('id', '<', before.id)]),
        ]),
      );
    return q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
  },

  /** The payments of some orders (their ids only: what their SMS were sent for). */
  async idsOfOrders(db: PayserverDb, orderIds: string[]): Promise<Array<{ id: string; order_id: string }>> {
    return db.selectFrom('payments').select(['id', 'order_id']).where('order_id', 'in', orderIds).execute();
  },

  /**
   * The reply's code matched a payment charged under a rail's agreement: its code stops working (no second
   * reply matches it) and stops expiring (the rail's answer ends it now). Whether this call confirmed it.
   */
  async confirmCode(trx: PayserverDb, id: string): Promise<boolean> {
    const codeLive = { id, status: 'pending', code_hash: compared('is not', null) } as const;
    return moveRow(trx, 'payments', codeLive, { code_hash: null, code_expires_at: null });
  },

  /** Pending code payments whose code expired. */
  async expiredCodes(db: PayserverDb, now: string, limit: number): Promise<Payment[]> {
    return db
      .selectFrom('payments')
      .selectAll()
      .where('status', '=', 'pending')
      .where('method', '=', 'sms_code')
      .where('code_expires_at', '<', now)
      .limit(limit)
      .execute();
  },
};

import { sql, type ExpressionBuilder, type UpdateObject } from 'kysely';
import { affected } from '../../lib/db/affected.ts';
import { onPostgres } from '../../lib/db/dialect-of.ts';
import type { LinkTokens } from '../core/link-tokens.ts';
import { inTurn, preparedQuery } from '../../lib/db/prepared-query.ts';
import { columnsOf, lowerRow } from '../../lib/db/rows.ts';
import type { BackendDb, BackendTables } from '../schema.ts';
import { OPEN_STATUSES, PREDECESSORS, REFUNDABLE_STATUSES, type OrderStatus } from '../core/order-state.ts';
import { orderTimeline, type EntryOf, type OrderChange } from './order-timeline.ts';

export type OrderRow = BackendTables['orders'];

/** What every UPDATE of an order sets besides its change: the version one higher (see the column). */
const nextVersion = (eb: ExpressionBuilder<BackendTables, 'orders'>) => eb('version', '+', 1);

const orderById = preparedQuery((db: BackendDb, orderId: string) =>
  db.selectFrom('orders').selectAll().where('id', '=', orderId),
);

/** Reads one order (the TV's status read: a hot path, so a prepared query). */
export async function findOrder(db: BackendDb, orderId: string): Promise<OrderRow | undefined> {
  return (await orderById(db, orderId)).rows[0];
}

type MoveGuard = {
  attempt?: number;
  from?: readonly OrderStatus[];
  noFailure?: boolean;
  price?: { amountMinor: number; currency: string };
};

/**
 * moveOrder's UPDATE as a change: its SQL is decided by `to`, `from`, the columns `set` names (a column set
 * to an expression by that expression's own SQL, in the key) and which guards are given; the rest are values.
 */
function orderMove(
  orderId: string,
  to: OrderStatus,
  now: Date,
  set: UpdateObject<BackendTables, 'orders'>,
  guard: MoveGuard,
  from: OrderStatus[],
): OrderChange {
  const columns = columnsOf(set);
  const guards = [guard.attempt !== undefined, guard.noFailure === true, guard.price !== undefined];
  const price = guard.price ? [guard.price.amountMinor, guard.price.currency] : [];
  return {
    key: `move ${to} from ${from.join(',')} set ${columns.key} guards ${guards.join(',')}`,
    params: [
      orderId,
      now.toISOString(),
      ...columns.values,
      ...(guard.attempt !== undefined ? [guard.attempt] : []),
      ...price,
    ],
    build: (db, ...params) => {
      const next = inTurn(params);
      const [id, at] = [next<string>(), next<string>()];
      const columnsSet = columns.columns(next);
      let q = db
        .updateTable('orders')
        .set((eb) => ({ ...columnsSet, status: to, updated_at: at, version: nextVersion(eb) }))
        .where('id', '=', id)
        .where('status', 'in', from);
      if (guard.attempt !== undefined) q = q.where('attempt', '=', next<number>());
      if (guard.noFailure) q = q.where('failure_code', 'is', null);
      if (guard.price) q = q.where('amount_minor', '=', next<number>()).where('currency', '=', next<string>());
      return q.returningAll();
    },
  };
}

/**
 * Moves an order to `to` only from one of its allowed predecessors (and only
 * if `attempt`, when given, is still the current one; with `noFailure`, only
 * if it has no failure code; with `price`, only at that price): the guard that keeps the state machine
 * forward-only whatever arrives late, twice or out of order. Returns the
 * order as this call left it, or undefined when it did not make the move: the
 * caller has the row without reading it again (issue 30). `notes`: more
 * timeline entries written with the move's own, only if it was made (in the
 * same statement as it on PostgreSQL, in one more on SQLite). Every move is
 * told to the webhooks in its transaction: on PostgreSQL its statement also
 * reads the active ones (orderTimeline.moved), so the event reads none.
 */
export async function moveOrder(
  trx: BackendDb,
  orderId: string,
  to: OrderStatus,
  now: Date,
  set: UpdateObject<BackendTables, 'orders'> = {},
  guard: MoveGuard = {},
  notes: readonly EntryOf[] = [],
): Promise<OrderRow | undefined> {
  const from = [...(guard.from ?? PREDECESSORS[to])];
  if (from.length === 0) return undefined;
  const failureCode = (set as { failure_code?: string | null }).failure_code;
  return orderTimeline.moved(
    trx,
    orderMove(orderId, to, now, set, guard, from),
    { at: now, kind: 'status', summary: to, ...(failureCode ? { detail: { failureCode } } : {}) },
    ...notes,
  );
}

/** What an order is made of at its creation: the TV's, the product's, and its times; the rest starts empty. */
export type NewOrder = Pick<
  OrderRow,
  | 'id'
  | 'device_id'
  | 'account_id'
  | 'product_id'
  | 'title'
  | 'amount_minor'
  | 'currency'
  | 'service'
  | 'duration_days'
  | 'created_at'
  | 'expires_at'
  | 'renews'
>;

/**
 * A created order's whole row, every column named (as an insert names them): not yet paid, on no channel, with no
 * payer, refund or subscription. One builder, so that a new column gets its starting value in one place.
 */
export const newOrderRow = (o: NewOrder): OrderRow => ({
  ...o,
  status: 'created',
  channel: null,
  payer_phone: null,
  attempt: 0,
  link_token_sealed: '',
  failure_code: null,
  payment_id: null,
  paid_at: null,
  fulfilled_at: null,
  updated_at: o.created_at,
  refund_reserved_minor: 0,
  refunded_minor: 0,
  subscription_id: null,
  renewal_consent: 0,
  tries_left: null,
  paid_source: null,
  version: 0,
});

/**
 * The condition of the partial unique index that lets a TV have one open order, renewal orders apart
 * (`orders_one_open_per_device`, migration 0007), word for word: ON CONFLICT names the index by it.
 */
const ONE_OPEN = "status IN ('created', 'awaiting_payment') AND (channel IS NULL OR channel <> 'renewal')";

/**
 * Inserts a new order with its timeline entry; whether it did. With `unlessOpen`, a TV that already has an
 * open order gets none (ON CONFLICT DO NOTHING on the one-open-order index: no error, nothing rolled back);
 * without it, that TV's insert fails with a unique violation.
 */
export async function insertOrder(trx: BackendDb, row: OrderRow, unlessOpen = false): Promise<boolean> {
  const columns = columnsOf(row);
  const change: OrderChange = {
    key: `insert ${columns.key} ${unlessOpen}`,
    params: columns.values,
    build: (db, ...values) => {
      const insert = db.insertInto('orders').values(columns.columns(inTurn(values)) as OrderRow);
      const guarded = unlessOpen
        ? insert.onConflict((oc) => oc.column('device_id').where(sql.raw<boolean>(ONE_OPEN)).doNothing())
        : insert;
      return guarded.returningAll();
    },
  };
  const inserted = await orderTimeline.changed(trx, change, {
    at: new Date(row.created_at),
    kind: 'status',
    summary: 'created',
    detail: { productId: row.product_id, amountMinor: Number(row.amount_minor), currency: row.currency },
  });
  return inserted !== undefined;
}

/**
 * Serializes the replacements of one TV's open order on PostgreSQL: a transaction-scoped advisory lock on the
 * device, taken first in the replacing unit of work. Without it, concurrent creations that each end the open order
 * and insert their own keep colliding on the one-open-order index and retrying (twenty at once exhausted the
 * retries and answered 500). SQLite runs one writer at a time already.
 */
export async function lockDeviceOrders(trx: BackendDb, deviceId: string): Promise<void> {
  if (!onPostgres(trx)) return;
  await sql`select pg_advisory_xact_lock(hashtextextended(${`orders-device:${deviceId}`}, 0))`.execute(trx);
}

/** A TV's orders still waiting for their payment (one at most, but read as a list to end them all). */
export async function openOrdersOfDevice(trx: BackendDb, deviceId: string) {
  return trx
    .selectFrom('orders')
    .select(['id', 'attempt'])
    .where('device_id', '=', deviceId)
    .where('status', 'in', OPEN_STATUSES)
    .execute();
}

/**
 * Takes the payer of an order for a new attempt: → `awaiting_payment` from
 * its allowed predecessors, before it expires, with the attempt number raised
 * in the same conditional UPDATE (so concurrent submissions are ordered);
 * with `deviceId`, only the order of that TV (the ownership check in the same
 * statement: no read before it). Returns the order with its new attempt, or
 * undefined when it could not take it.
 */
export async function takePayer(
  trx: BackendDb,
  orderId: string,
  phone: string,
  now: Date,
  guard: { deviceId?: string } = {},
): Promise<OrderRow | undefined> {
  const byDevice = guard.deviceId !== undefined;
  const change: OrderChange = {
    key: `takePayer ${byDevice}`,
    params: [orderId, phone, now.toISOString(), ...(byDevice ? [guard.deviceId] : [])],
    build: (db, id: string, payer: string, at: string, deviceId?: string) => {
      const taken = db
        .updateTable('orders')
        .set((eb) => ({
          status: 'awaiting_payment' as OrderStatus,
          payer_phone: payer,
          attempt: eb('attempt', '+', 1),
          channel: null,
          failure_code: null,
          updated_at: at,
          version: nextVersion(eb),
        }))
        .where('id', '=', id)
        .where('status', 'in', [...PREDECESSORS.awaiting_payment])
        .where('expires_at', '>', at);
      return (byDevice ? taken.where('device_id', '=', deviceId!) : taken).returningAll();
    },
  };
  return orderTimeline.changed(trx, change, {
    at: now,
    kind: 'status',
    summary: 'awaiting_payment',
    withAttempt: true,
  });
}

/**
 * Ends the pending attempt `attempt` without a new payer ("change number"): the attempt number goes up
 * and the payer, channel and tries are cleared in one conditional UPDATE, so late news of the old
 * attempt (its failure, its channel) no longer matches. The order stays `awaiting_payment`, open for the
 * next number until it expires. Returns the new attempt, or undefined when the order had moved on.
 */
export async function dropPayer(
  trx: BackendDb,
  orderId: string,
  attempt: number,
  now: Date,
): Promise<number | undefined> {
  const row = await trx
    .updateTable('orders')
    .set((eb) => ({
      attempt: eb('attempt', '+', 1),
      payer_phone: null,
      channel: null,
      tries_left: null,
      failure_code: null,
      updated_at: now.toISOString(),
      version: nextVersion(eb),
    }))
    .where('id', '=', orderId)
    .where('status', '=', 'awaiting_payment')
    .where('attempt', '=', attempt)
    .where('payer_phone', 'is not', null)
    .returning('attempt')
    .executeTakeFirst();
  if (row) await orderTimeline.add(trx, orderId, now, 'message', 'payer withdrawn: the pending attempt ended', row);
  return row?.attempt;
}

/** Records the channel an attempt took, once (the inline run and the outbox may race); the order as it left it. */
export async function setChannel(
  trx: BackendDb,
  orderId: string,
  attempt: number,
  channel: 'sms_confirm' | 'wap_link',
  now: Date,
  triesLeft: number | null = null,
): Promise<OrderRow | undefined> {
  const change: OrderChange = {
    key: 'setChannel',
    params: [orderId, attempt, channel, channel === 'sms_confirm' ? triesLeft : null, now.toISOString()],
    build: (db, id: string, of: number, taken: typeof channel, tries: number | null, at: string) =>
      db
        .updateTable('orders')
        .set((eb) => ({ channel: taken, tries_left: tries, updated_at: at, version: nextVersion(eb) }))
        .where('id', '=', id)
        .where('attempt', '=', of)
        .where('status', '=', 'awaiting_payment')
        .where('channel', 'is', null)
        .returningAll(),
  };
  return orderTimeline.changed(trx, change, {
    at: now,
    kind: 'message',
    summary: channel === 'sms_confirm' ? 'bound: pre-pay sent to the payment server' : 'not bound: checkout link sent',
    detail: { attempt, channel },
  });
}

/** Orders still open past their time. */
export async function dueToExpire(db: BackendDb, now: string, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('orders')
    .select('id')
    .where('status', 'in', OPEN_STATUSES)
    .where('expires_at', '<=', now)
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}

/** What operators search orders by (API "Listing and tracing"); `phone` is E.164 already. */
export interface OrderSearch {
  status?: OrderStatus;
  phone?: string;
  deviceId?: string;
  accountId?: string;
  /** The order a payment paid or a refund belongs to: an operator's search by either id. */
  paymentId?: string;
  refundId?: string;
  from?: string;
  to?: string;
  limit: number;
  /** The last order of the previous page: (created_at, id). */
  after?: { createdAt: string; id: string };
}

/** Orders newest first, one page (keyset paging on created_at and id, so a page never shifts under new orders). */
export async function searchOrders(db: BackendDb, s: OrderSearch): Promise<OrderRow[]> {
  let q = db.selectFrom('orders').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(s.limit);
  if (s.status) q = q.where('status', '=', s.status);
  if (s.phone) q = q.where('payer_phone', '=', s.phone);
  if (s.deviceId) q = q.where('device_id', '=', s.deviceId);
  if (s.accountId) q = q.where('account_id', '=', s.accountId);
  if (s.paymentId) q = q.where('payment_id', '=', s.paymentId);
  const refundId = s.refundId;
  if (refundId)
    q = q.where('id', 'in', (eb) =>
      eb.selectFrom('refunds').select('refunds.order_id').where('refunds.id', '=', refundId),
    );
  if (s.from) q = q.where('created_at', '>=', s.from);
  if (s.to) q = q.where('created_at', '<', s.to);
  if (s.after) {
    const { createdAt, id } = s.after;
    q = q.where((eb) =>
      eb.or([eb('created_at', '<', createdAt), eb.and([eb('created_at', '=', createdAt), eb('id', '<', id)])]),
    );
  }
  return q.execute();
}

/** Ties an order to the subscription it started, extended or renews; the order as it left it. */
export async function setSubscription(
  trx: BackendDb,
  orderId: string,
  subscriptionId: string,
): Promise<OrderRow | undefined> {
  return trx
    .updateTable('orders')
    .set((eb) => ({ subscription_id: subscriptionId, version: nextVersion(eb) }))
    .where('id', '=', orderId)
    .returningAll()
    .executeTakeFirst();
}

/** A wrong reply to the code SMS of the order's current attempt: the tries it has left. */
export async function setTriesLeft(
  trx: BackendDb,
  orderId: string,
  attempt: number,
  triesLeft: number,
  now: Date,
): Promise<boolean> {
  const res = await trx
    .updateTable('orders')
    .set((eb) => ({ tries_left: triesLeft, updated_at: now.toISOString(), version: nextVersion(eb) }))
    .where('id', '=', orderId)
    .where('attempt', '=', attempt)
    .where('status', '=', 'awaiting_payment')
    .where((eb) => eb.or([eb('tries_left', 'is', null), eb('tries_left', '>', triesLeft)]))
    .executeTakeFirst();
  return affected(res) === 1;
}

/** An UPDATE of one order adding `amount` to one of its refund figures, stamped and versioned like every change. */
function raiseFigure(
  trx: BackendDb,
  orderId: string,
  figure: 'refund_reserved_minor' | 'refunded_minor',
  amount: number,
  now: Date,
) {
  return trx
    .updateTable('orders')
    .set((eb) => ({ [figure]: eb(figure, '+', amount), updated_at: now.toISOString(), version: nextVersion(eb) }))
    .where('id', '=', orderId);
}

/**
 * The two figures of an order that refunds move (`refund_reserved_minor`, `refunded_minor`), written here
 * because this store alone writes `orders`. A refund is checked and counted in one conditional UPDATE, so
 * refunds racing on several instances can never add up to more than was paid.
 */
export const orderRefundFigures = {
  /** Counts `amount` against what is left to refund of a paid or fulfilled order; whether it fit. */
  async reserve(trx: BackendDb, orderId: string, amount: number, now: Date): Promise<boolean> {
    const res = await raiseFigure(trx, orderId, 'refund_reserved_minor', amount, now)
      .where('status', 'in', [...REFUNDABLE_STATUSES])
      .where((eb) => eb(eb('refund_reserved_minor', '+', amount), '<=', eb.ref('amount_minor')))
      .executeTakeFirst();
    return affected(res) === 1;
  },

  /** A failed refund gives back what it had reserved. */
  async unreserve(trx: BackendDb, orderId: string, amount: number): Promise<void> {
    await lowerRow(trx, 'orders', { id: orderId }, 'refund_reserved_minor', amount, { version: sql`"version" + 1` });
  },

  /** Adds a succeeded refund to the order's refunded total; the new total. */
  async addRefunded(trx: BackendDb, orderId: string, amount: number, now: Date): Promise<number | undefined> {
    const row = await raiseFigure(trx, orderId, 'refunded_minor', amount, now)
      .returning('refunded_minor')
      .executeTakeFirst();
    return row ? Number(row.refunded_minor) : undefined;
  },
};

/**
 * Marks a paid order whose provisioning was given up (`FULFILMENT_FAILED`), once and only while it is
 * still waiting for it; whether this call did.
 */
export async function markFulfilmentFailed(trx: BackendDb, orderId: string, now: Date): Promise<boolean> {
  const res = await trx
    .updateTable('orders')
    .set((eb) => ({ failure_code: 'FULFILMENT_FAILED', updated_at: now.toISOString(), version: nextVersion(eb) }))
    .where('id', '=', orderId)
    .where('status', '=', 'paid')
    .where('failure_code', 'is', null)
    .executeTakeFirst();
  return affected(res) === 1;
}

/**
 * Seals the plain link tokens rows kept before tokens were derived (LinkTokens.keptForm says into what).
 * Idempotent; run at every start, it finds nothing after the first. On SQLite the rewritten rows' old bytes
 * are zeroed (secure_delete, for this transaction only) and the write-ahead log is emptied, so the plain
 * tokens do not linger in the files. How many rows it rewrote.
 */
export async function sealLegacyLinkTokens(
  db: BackendDb,
  links: Pick<LinkTokens, 'keptForm'>,
  sqlite = false,
): Promise<number> {
  const plain = await db
    .selectFrom('orders')
    .select(['id', 'status', 'link_token_sealed'])
    .where('link_token_sealed', '<>', '')
    .where('link_token_sealed', 'not like', 'v1.%')
    .execute();
  if (plain.length === 0) return 0;
  await db.transaction().execute(async (trx) => {
    if (sqlite) await sql`PRAGMA secure_delete = ON`.execute(trx);
    for (const o of plain) {
      await trx
        .updateTable('orders')
        .set((eb) => ({ link_token_sealed: links.keptForm(o), version: nextVersion(eb) }))
        .where('id', '=', o.id)
        .where('link_token_sealed', '=', o.link_token_sealed)
        .execute();
    }
    if (sqlite) await sql`PRAGMA secure_delete = OFF`.execute(trx);
  });
  // The write-ahead log still holds the pages as they were: copied back and emptied, when no reader holds
  // it (at start nothing does; else the log is reused as usual).
  if (sqlite) await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(db).catch(() => undefined);
  return plain.length;
}

import { sql, type RawBuilder } from 'kysely';
import { moveRow, rowWhere, tableRows } from '../../lib/db/rows.ts';
import type { BackendDb, BackendTables } from '../schema.ts';

export type WebhookRow = BackendTables['webhooks'];
/** What an event's fan-out needs of a webhook: which it is, and the event types it subscribed to (JSON). */
export type WebhookTarget = Pick<WebhookRow, 'id' | 'events'>;
export type DeliveryRow = BackendTables['webhook_deliveries'];
export type EventRow = BackendTables['webhook_events'];

const webhooks = tableRows('webhooks', 'id');
const events = tableRows('webhook_events', 'id');
const deliveries = tableRows('webhook_deliveries', 'id');

/** The active webhooks a transaction read with one of its own statements (targetsColumn), by transaction. */
const readByTransaction = new WeakMap<object, readonly WebhookTarget[]>();

/**
 * The active webhooks' targets, oldest first, as one JSON column another statement of PostgreSQL selects
 * with its own rows (an order's move, whose event fans out to them in the same transaction): the list is
 * read by that statement instead of by one more.
 */
const targetsColumn: RawBuilder<WebhookTarget[]> = sql`(select coalesce(json_agg(json_build_object(
  'id', "w"."id", 'events', "w"."events") order by "w"."created_at"), '[]') from "webhooks" as "w"
  where "w"."deleted_at" is null)`;

/** The only place the webhook tables are written and read. */
export const webhookStore = {
  insert: webhooks.insert,

  async active(db: BackendDb): Promise<WebhookRow[]> {
    return db.selectFrom('webhooks').selectAll().where('deleted_at', 'is', null).orderBy('created_at').execute();
  },

  targetsColumn,

  /**
   * `trx` (a transaction) read the active webhooks' targets with a statement of its own (targetsColumn):
   * its events fan out to that list, read within the transaction before them, as a read of their own would.
   */
  readIn(trx: BackendDb, targets: readonly WebhookTarget[]): void {
    if (!trx.isTransaction) throw new Error('a webhook list kept for a store would hide later registrations');
    readByTransaction.set(trx, targets);
  },

  /**
   * The active webhooks an event of `trx` fans out to, oldest first: as `trx` read them already (readIn), or
   * read now. Either read is the transaction's own, made before the event is written: a webhook whose
   * registration committed before the transaction began is always among them.
   */
  async targets(trx: BackendDb): Promise<readonly WebhookTarget[]> {
    return readByTransaction.get(trx) ?? this.active(trx);
  },

  async byId(db: BackendDb, id: string): Promise<WebhookRow | undefined> {
    return rowWhere(db, 'webhooks', { id, deleted_at: null });
  },

  /** Whether it was there to delete; its deliveries stay, as the record of what was sent. */
  async remove(db: BackendDb, id: string, now: string): Promise<boolean> {
    return moveRow(db, 'webhooks', { id, deleted_at: null }, { deleted_at: now });
  },

  insertEvent: events.insert,
  event: events.byKey,
  insertDelivery: deliveries.insert,
  delivery: deliveries.byKey,

  /** A webhook's deliveries, newest first. */
  async deliveriesOf(db: BackendDb, webhookId: string, limit: number): Promise<Array<DeliveryRow & { type: string }>> {
    return withEventType(db)
      .where('d.webhook_id', '=', webhookId)
      .orderBy('d.created_at', 'desc')
      .orderBy('d.id', 'desc')
      .limit(limit)
      .execute();
  },

  /** An order's deliveries (for its timeline), oldest first. */
  async deliveriesOfOrder(db: BackendDb, orderId: string): Promise<Array<DeliveryRow & { type: string }>> {
    return withEventType(db).where('d.order_id', '=', orderId).orderBy('d.created_at').execute();
  },

  /** Records one attempt's outcome; only a pending delivery moves (delivered and failed are final, until a resend). */
  async recordAttempt(
    db: BackendDb,
    id: string,
    set: Pick<DeliveryRow, 'status' | 'last_status_code' | 'last_attempt_at' | 'next_attempt_at'>,
  ): Promise<void> {
    await db
      .updateTable('webhook_deliveries')
      .set((eb) => ({ ...set, attempts: eb('attempts', '+', 1) }))
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .execute();
  },

  /** A resend makes a delivery pending again (it keeps its event, and so the event's id). */
  async reopen(trx: BackendDb, id: string, now: string): Promise<void> {
    await moveRow(trx, 'webhook_deliveries', { id }, { status: 'pending', next_attempt_at: now });
  },
};

/** Deliveries (`d`) with their event's type, for the lists that show what each delivered. */
function withEventType(db: BackendDb) {
  return db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('webhook_events as e', 'e.id', 'd.event_id')
    .selectAll('d')
    .select('e.type');
}

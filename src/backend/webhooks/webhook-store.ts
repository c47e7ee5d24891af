import { insertRow, moveRow, rowWhere } from '../../lib/db/rows.ts';
import type { BackendDb, BackendTables } from '../schema.ts';

export type WebhookRow = BackendTables['webhooks'];
export type DeliveryRow = BackendTables['webhook_deliveries'];
export type EventRow = BackendTables['webhook_events'];

/** The only place the webhook tables are written and read. */
export const webhookStore = {
  async insert(db: BackendDb, row: WebhookRow): Promise<void> {
    await insertRow(db, 'webhooks', row);
  },

  async active(db: BackendDb): Promise<WebhookRow[]> {
    return db.selectFrom('webhooks').selectAll().where('deleted_at', 'is', null).orderBy('created_at').execute();
  },

  async byId(db: BackendDb, id: string): Promise<WebhookRow | undefined> {
    return rowWhere(db, 'webhooks', { id, deleted_at: null });
  },

  /** Whether it was there to delete; its deliveries stay, as the record of what was sent. */
  async remove(db: BackendDb, id: string, now: string): Promise<boolean> {
    return moveRow(db, 'webhooks', { id, deleted_at: null }, { deleted_at: now });
  },

  async insertEvent(trx: BackendDb, row: EventRow): Promise<void> {
    await insertRow(trx, 'webhook_events', row);
  },

  async event(db: BackendDb, id: string): Promise<EventRow | undefined> {
    return rowWhere(db, 'webhook_events', { id });
  },

  async insertDelivery(trx: BackendDb, row: DeliveryRow): Promise<void> {
    await insertRow(trx, 'webhook_deliveries', row);
  },

  async delivery(db: BackendDb, id: string): Promise<DeliveryRow | undefined> {
    return rowWhere(db, 'webhook_deliveries', { id });
  },

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

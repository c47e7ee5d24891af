import { moveRow, rowWhere, tableRows } from '../../lib/db/rows.ts';
import type { BackendDb, BackendTables } from '../schema.ts';

export type WebhookRow = BackendTables['webhooks'];
export type DeliveryRow = BackendTables['webhook_deliveries'];
export type EventRow = BackendTables['webhook_events'];

const webhooks = tableRows('webhooks', 'id');
const events = tableRows('webhook_events', 'id');
const deliveries = tableRows('webhook_deliveries', 'id');

/** The only place the webhook tables are written and read. */
export const webhookStore = {
  insert: webhooks.insert,

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

import { randomUUID } from 'node:crypto';
import type { BackendDb } from '../schema.ts';

/** Kinds of entry in an order's timeline (the contract's `kind`). */
export type TimelineKind = 'status' | 'sms' | 'message' | 'webhook' | 'refund' | 'fulfilment' | 'payment';

export interface TimelineEntry {
  at: string;
  kind: TimelineKind;
  summary: string;
  [more: string]: unknown;
}

/**
 * What happened to an order, written in the transaction of each change: its
 * status changes, the service messages it took, its refunds. Enough, with the
 * SMS log and the webhook deliveries, to answer "what happened to my order?".
 */
export const orderTimeline = {
  async add(trx: BackendDb, orderId: string, at: Date, kind: TimelineKind, summary: string, detail?: Record<string, unknown>): Promise<void> {
    await trx
      .insertInto('order_timeline')
      .values({ id: randomUUID(), order_id: orderId, at: at.toISOString(), kind, summary, detail: detail ? JSON.stringify(detail) : null })
      .execute();
  },

  async of(db: BackendDb, orderId: string): Promise<TimelineEntry[]> {
    const rows = await db.selectFrom('order_timeline').selectAll().where('order_id', '=', orderId).orderBy('at').execute();
    return rows.map((r) => ({ ...(r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : {}), at: r.at, kind: r.kind as TimelineKind, summary: r.summary }));
  },
};

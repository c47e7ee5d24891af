import { randomUUID } from 'node:crypto';
import { correlation } from '../../lib/correlation.ts';
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
  /** Each entry keeps the correlation id it was written under (the TV's request, a peer's message, a renewal's run). */
  async add(trx: BackendDb, orderId: string, at: Date, kind: TimelineKind, summary: string, detail?: Record<string, unknown>): Promise<void> {
    const correlationId = correlation.current();
    const more = correlationId ? { ...detail, correlationId } : detail;
    await trx
      .insertInto('order_timeline')
      .values({ id: randomUUID(), order_id: orderId, at: at.toISOString(), kind, summary, detail: more ? JSON.stringify(more) : null })
      .execute();
  },

  async of(db: BackendDb, orderId: string): Promise<TimelineEntry[]> {
    const rows = await db.selectFrom('order_timeline').selectAll().where('order_id', '=', orderId).orderBy('at').execute();
    return rows.map((r) => ({ ...(r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : {}), at: r.at, kind: r.kind as TimelineKind, summary: r.summary }));
  },
};

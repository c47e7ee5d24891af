import { randomUUID } from 'node:crypto';
import { correlation } from '../../lib/correlation.ts';
import { preparedQuery } from '../../lib/db/prepared-query.ts';
import type { BackendDb } from '../schema.ts';

/** Kinds of entry in an order's timeline (the contract's `kind`). */
export type TimelineKind = 'status' | 'sms' | 'message' | 'webhook' | 'refund' | 'fulfilment' | 'payment' | 'rail';

export interface TimelineEntry {
  at: string;
  kind: TimelineKind;
  summary: string;
  [more: string]: unknown;
}

// Several per checkout: built and compiled once (preparedQuery).
const insertEntry = preparedQuery(
  (
    db: BackendDb,
    id: string,
    orderId: string,
    at: string,
    kind: TimelineKind,
    summary: string,
    detail: string | null,
  ) => db.insertInto('order_timeline').values({ id, order_id: orderId, at, kind, summary, detail }),
);

/**
 * What happened to an order, written in the transaction of each change: its
 * status changes, the service messages it took, its refunds. Enough, with the
 * SMS log and the webhook deliveries, to answer "what happened to my order?".
 */
export const orderTimeline = {
  /** Each entry keeps the correlation id it was written under (the TV's request, a peer's message, a renewal's run). */
  async add(
    trx: BackendDb,
    orderId: string,
    at: Date,
    kind: TimelineKind,
    summary: string,
    detail?: Record<string, unknown>,
  ): Promise<void> {
    const correlationId = correlation.current();
    const more = correlationId ? { ...detail, correlationId } : detail;
    await insertEntry(trx, randomUUID(), orderId, at.toISOString(), kind, summary, more ? JSON.stringify(more) : null);
  },

  async of(db: BackendDb, orderId: string): Promise<TimelineEntry[]> {
    const rows = await db
      .selectFrom('order_timeline')
      .selectAll()
      .where('order_id', '=', orderId)
      .orderBy('at')
      .execute();
    return rows.map((r) => ({
      ...(r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : {}),
      at: r.at,
      kind: r.kind as TimelineKind,
      summary: r.summary,
    }));
  },
};

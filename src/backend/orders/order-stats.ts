import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { sql } from 'kysely';
import { Type, type Static } from 'typebox';
import { businessDate, businessDay } from '../../lib/business-day.ts';
import type { Clock } from '../../lib/clock.ts';
import type { BackendDb } from '../schema.ts';

const HOUR = 3600_000;

export const OrderStatsSchema = Type.Object({
  window: Type.Union([Type.Literal('24h'), Type.Literal('7d')]),
  buckets: Type.Array(
    Type.Object({
      start: Type.String(),
      /** Orders created in the bucket, by channel (`none`: no payer given yet). */
      orders: Type.Record(Type.String(), Type.Integer()),
      /** What orders created in the bucket were paid, less what was refunded, in minor units, by currency. */
      revenueMinor: Type.Record(Type.String(), Type.Integer()),
      /** Failed orders created in the bucket, by failure code. */
      failures: Type.Record(Type.String(), Type.Integer()),
      /** Orders created in the bucket that were paid (refunded later or not). */
      paid: Type.Integer(),
      /** What was refunded of the orders created in the bucket, in minor units, by currency. */
      refundedMinor: Type.Record(Type.String(), Type.Integer()),
    }),
  ),
});
export type OrderStats = Static<typeof OrderStatsSchema>;

const PAID = new Set(['paid', 'fulfilled', 'refunded']);

/**
 * Where the buckets of a window start (and the last one ends), as UTC instants: the last 24 whole
 * hours, or the last 7 business days in the business time zone (a chart of days cut at UTC
 * midnight puts 8 hours of Shanghai's morning on the day before).
 */
function bucketEdges(now: Date, window: '24h' | '7d', timeZone: string): number[] {
  if (window === '24h') {
    const end = Math.ceil(now.getTime() / HOUR) * HOUR;
    return Array.from({ length: 25 }, (_, i) => end - (24 - i) * HOUR);
  }
  const [y, m, d] = businessDate(now, timeZone).split('-').map(Number) as [number, number, number];
  const date = (k: number) => new Date(Date.UTC(y, m - 1, d - 6 + k)).toISOString().slice(0, 10);
  return Array.from({ length: 8 }, (_, k) => Date.parse(businessDay(date(k), timeZone).start));
}

/**
 * Orders and revenue over the last 24 hours (by hour) or 7 business days, by channel and failure
 * code: the overview's charts. The store counts them a row per hour and kind (the hour is a prefix
 * of the RFC 3339 time), not order by order; hours then fall into the buckets (a zone whose
 * midnight is not on a UTC hour would split an hour, which the business zones here do not have).
 */
export async function orderStats(
  db: BackendDb,
  clock: Clock,
  window: '24h' | '7d',
  timeZone = 'UTC',
): Promise<OrderStats> {
  const edges = bucketEdges(clock.now(), window, timeZone);
  const rows = await db
    .selectFrom('orders')
    .select((eb) => [
      sql<string>`substr(created_at, 1, 13)`.as('bucket'),
      'channel',
      'status',
      'failure_code',
      'currency',
      eb.fn.countAll().as('n'),
      eb.fn.sum<number>(sql`amount_minor - refunded_minor`).as('net'),
      eb.fn.sum<number>('refunded_minor').as('refunded'),
    ])
    .where('created_at', '>=', new Date(edges[0]!).toISOString())
    .groupBy([sql`substr(created_at, 1, 13)`, 'channel', 'status', 'failure_code', 'currency'])
    .execute();
  const out = edges.slice(0, -1).map((start) => ({
    start: new Date(start).toISOString(),
    orders: {} as Record<string, number>,
    revenueMinor: {} as Record<string, number>,
    failures: {} as Record<string, number>,
    paid: 0,
    refundedMinor: {} as Record<string, number>,
  }));
  const add = (m: Record<string, number>, k: string, n: number) => (m[k] = (m[k] ?? 0) + n);
  for (const r of rows) {
    const t = Date.parse(`${r.bucket}:00:00Z`);
    const b = out[edges.findIndex((e, i) => i + 1 < edges.length && e <= t && t < edges[i + 1]!)];
    if (!b) continue;
    const n = Number(r.n);
    add(b.orders, r.channel ?? 'none', n);
    if (PAID.has(r.status)) {
      add(b.revenueMinor, r.currency, Number(r.net));
      b.paid += n;
    }
    if (Number(r.refunded) > 0) add(b.refundedMinor, r.currency, Number(r.refunded));
    if (r.status === 'failed') add(b.failures, r.failure_code ?? 'PAYMENT_FAILED', n);
  }
  return { window, buckets: out };
}

export function adminStatsRoutes(app: FastifyInstance, db: BackendDb, clock: Clock, timeZone: string): void {
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/admin/v1/stats/orders',
    {
      schema: {
        querystring: Type.Object(
          { window: Type.Union([Type.Literal('24h'), Type.Literal('7d')]) },
          { additionalProperties: false },
        ),
        response: { 200: OrderStatsSchema },
      },
    },
    async (request) => orderStats(db, clock, request.query.window, timeZone),
  );
}

import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { sql } from 'kysely';
import { Type, type Static } from 'typebox';
import type { Clock } from '../../lib/clock.ts';
import type { BackendDb } from '../schema.ts';

const HOUR = 3600_000;
const WINDOWS = { '24h': { buckets: 24, size: HOUR }, '7d': { buckets: 7, size: 24 * HOUR } } as const;

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
    }),
  ),
});
export type OrderStats = Static<typeof OrderStatsSchema>;

const PAID = new Set(['paid', 'fulfilled', 'refunded']);

/** Orders and revenue over the last 24 hours (by hour) or 7 days (by day), by channel and failure code: the overview's charts. */
export async function orderStats(db: BackendDb, clock: Clock, window: keyof typeof WINDOWS): Promise<OrderStats> {
  const { buckets, size } = WINDOWS[window];
  const end = Math.ceil(clock.now().getTime() / size) * size;
  const start = end - buckets * size;
  // Counted by the store, a row per bucket and kind (the hour or the day is a prefix of the RFC 3339 time), not read order by order.
  const prefix = size === HOUR ? 13 : 10;
  const rows = await db
    .selectFrom('orders')
    .select((eb) => [
      sql<string>`substr(created_at, 1, ${sql.lit(prefix)})`.as('bucket'),
      'channel',
      'status',
      'failure_code',
      'currency',
      eb.fn.countAll().as('n'),
      eb.fn.sum<number>(sql`amount_minor - refunded_minor`).as('net'),
    ])
    .where('created_at', '>=', new Date(start).toISOString())
    .groupBy([sql`substr(created_at, 1, ${sql.lit(prefix)})`, 'channel', 'status', 'failure_code', 'currency'])
    .execute();
  const out = Array.from({ length: buckets }, (_, i) => ({
    start: new Date(start + i * size).toISOString(),
    orders: {} as Record<string, number>,
    revenueMinor: {} as Record<string, number>,
    failures: {} as Record<string, number>,
  }));
  const add = (m: Record<string, number>, k: string, n: number) => (m[k] = (m[k] ?? 0) + n);
  for (const r of rows) {
    const b =
      out[Math.floor((Date.parse(prefix === 13 ? `${r.bucket}:00:00Z` : `${r.bucket}T00:00:00Z`) - start) / size)];
    if (!b) continue;
    const n = Number(r.n);
    add(b.orders, r.channel ?? 'none', n);
    if (PAID.has(r.status)) add(b.revenueMinor, r.currency, Number(r.net));
    if (r.status === 'failed') add(b.failures, r.failure_code ?? 'PAYMENT_FAILED', n);
  }
  return { window, buckets: out };
}

export function adminStatsRoutes(app: FastifyInstance, db: BackendDb, clock: Clock): void {
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
    async (request) => orderStats(db, clock, request.query.window),
  );
}

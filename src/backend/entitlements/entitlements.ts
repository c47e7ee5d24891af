import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { sql } from 'kysely';
import { onPostgres } from '../../lib/db/dialect-of.ts';
import { preparedQuery } from '../../lib/db/prepared-query.ts';
import type { BackendDb } from '../schema.ts';
import { EntitlementSchema, type Entitlement } from '../../contracts/tv-api.ts';

const DAY_MS = 24 * 3600 * 1000;

/**
 * grantEntitlement's upsert, of its values: built and compiled once per dialect (preparedQuery), as every
 * fulfilment runs it. `shift` is how far an active end moves, as the dialect takes it: the hours on PostgreSQL,
 * SQLite's modifier (`+720 hours`) on SQLite.
 */
const grant = preparedQuery(
  (
    db: BackendDb,
    accountId: string,
    service: string,
    productId: string,
    orderId: string,
    at: string,
    until: string,
    shift: number | string,
  ) => {
    // One statement (issue 30): the row, or the extension of an active one from its end, computed by the
    // upsert itself. The end is written as toISOString() writes it, on either dialect, in whole hours of UTC.
    const extended = onPostgres(db)
      ? sql<string>`to_char((${sql.ref('entitlements.valid_until')}::timestamptz \
+ make_interval(hours => ${shift}::int)) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`
      : sql<string>`strftime('%Y-%m-%dT%H:%M:%fZ', ${sql.ref('entitlements.valid_until')}, ${shift})`;
    const active = sql<boolean>`${sql.ref('entitlements.valid_until')} > ${at}`;
    return db
      .insertInto('entitlements')
      .values({
        account_id: accountId,
        service,
        product_id: productId,
        order_id: orderId,
        valid_from: at,
        valid_until: until,
      })
      .onConflict((oc) =>
        oc.columns(['account_id', 'service']).doUpdateSet({
          product_id: productId,
          order_id: orderId,
          valid_from: sql<string>`case when ${active} then ${sql.ref('entitlements.valid_from')} else ${at} end`,
          valid_until: sql<string>`case when ${active} then ${extended} else ${until} end`,
        }),
      )
      .returning('valid_until');
  },
);

/**
 * Turns on what was bought (the patent's S209). Runs inside the transaction
 * that moves the order from paid to fulfilled, so it happens exactly once. A
 * service still active is extended from its current end. Returns the new end.
 */
export async function grantEntitlement(
  trx: BackendDb,
  order: { accountId: string; service: string; productId: string; orderId: string; durationDays: number },
  now: Date,
): Promise<string> {
  const at = now.toISOString();
  const until = new Date(now.getTime() + order.durationDays * DAY_MS).toISOString();
  const hours = order.durationDays * 24;
  const shift = onPostgres(trx) ? hours : `+${hours} hours`;
  const { rows } = await grant(trx, order.accountId, order.service, order.productId, order.orderId, at, until, shift);
  if (!rows[0]) throw new Error('grantEntitlement: the upsert returned no row');
  return rows[0].valid_until;
}

export async function listEntitlements(db: BackendDb, accountId: string): Promise<Entitlement[]> {
  const rows = await db
    .selectFrom('entitlements as e')
    .leftJoin('orders as o', 'o.id', 'e.order_id')
    .selectAll('e')
    .select(['o.status as order_status', 'o.paid_source as paid_source'])
    .where('e.account_id', '=', accountId)
    .orderBy('e.service')
    .execute();
  return rows.map((r) => ({
    service: r.service,
    productId: r.product_id,
    orderId: r.order_id,
    validFrom: r.valid_from,
    validUntil: r.valid_until,
    refunded: r.order_status === 'refunded',
    paidWith: r.paid_source ?? null,
  }));
}

export function entitlementRoutes(app: FastifyInstance, db: BackendDb): void {
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/v1/entitlements',
    {
      schema: {
        response: {
          200: Type.Array(EntitlementSchema),
        },
      },
    },
    async (request) => listEntitlements(db, request.device!.accountId),
  );
}

/**
 * Takes a refunded purchase's days back: the service's end moves earlier by
 * `durationDays`, never before now (the days already watched are not
 * reclaimed, and an end in the past stays where it was).
 */
export async function takeBackDays(
  trx: BackendDb,
  order: { accountId: string; service: string; durationDays: number },
  now: Date,
): Promise<void> {
  const current = await trx
    .selectFrom('entitlements')
    .selectAll()
    .where('account_id', '=', order.accountId)
    .where('service', '=', order.service)
    .executeTakeFirst();
  if (!current || current.valid_until <= now.toISOString()) return;
  const until = new Date(
    Math.max(now.getTime(), Date.parse(current.valid_until) - order.durationDays * DAY_MS),
  ).toISOString();
  await trx
    .updateTable('entitlements')
    .set({ valid_until: until })
    .where('account_id', '=', order.accountId)
    .where('service', '=', order.service)
    .execute();
}

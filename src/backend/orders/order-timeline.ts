import { randomUUID } from 'node:crypto';
import { correlation } from '../../lib/correlation.ts';
import { preparedQueries, preparedQuery } from '../../lib/db/prepared-query.ts';
import { sql, type Compilable, type ExpressionBuilder, type Kysely } from 'kysely';
import { onPostgres } from '../../lib/db/dialect-of.ts';
import type { BackendDb, BackendTables } from '../schema.ts';
import { announcedInStatement, ORDER_CHANGED_CHANNEL } from './pg-order-events.ts';
import { webhookStore, type WebhookTarget } from '../webhooks/webhook-store.ts';

/** The column the active webhooks come back in, with the order a move returns (taken off the row). */
const TARGETS = 'webhook_targets_now';

type OrderRow = BackendTables['orders'];

/**
 * A change of one order that returns it (an INSERT or UPDATE … RETURNING *), as its store describes it: `build`
 * makes it of `params`, and every change with the same `key` is the same SQL (its call site, and whatever of
 * the call decides the SQL: a guard given or not, the columns it sets). The timeline builds and compiles it,
 * with its entries, once per key (preparedQueries): building them cost the back-end more CPU than any other
 * statement of a checkout.
 */
export interface OrderChange {
  key: string;
  params: unknown[];
  build: (db: BackendDb, ...params: any[]) => Compilable<OrderRow>;
}

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
 * The change `m` announced to the other back-end instances (PgOrderEvents' channel and payload), joined to it so that
 * it runs once per row changed: a function in a WITH that nothing reads would not run at all.
 */
const announcement = sql`json_build_object('id', "m"."id", 'version', "m"."version")::text`;
const announceChanged = sql`lateral (select pg_notify(${ORDER_CHANGED_CHANNEL}, ${announcement}))`;

/** An entry's values, in the order entryFrom takes them: each call's own (a new id, its time and detail). */
const entryParams = (e: EntryOf): unknown[] => [
  randomUUID(),
  e.at.toISOString(),
  e.kind,
  e.summary,
  detailOf(e.detail),
];
/** How many values each entry adds to changedInOne's statement (entryParams). */
const ENTRY_VALUES = 5;

/**
 * An entry of the order `m` changed, as a row selected from it (PostgreSQL: in the change's WITH statement), of
 * its values (entryParams).
 */
function entryFrom(eb: ExpressionBuilder<any, 'm'>, [id, at, kind, summary, detail]: unknown[], withAttempt: boolean) {
  // The detail is JSON text either way: on PostgreSQL the attempt is added to it by the statement itself.
  const detailSql = withAttempt
    ? sql<string>`(coalesce(${detail}::jsonb, '{}'::jsonb) || jsonb_build_object('attempt', "m"."attempt"))::text`
    : sql<string>`${detail}`;
  return eb
    .selectFrom('m')
    .select([
      sql<string>`${id}`.as('id'),
      'm.id',
      sql<string>`${at}`.as('at'),
      sql<string>`${kind}`.as('kind'),
      sql<string>`${summary}`.as('summary'),
      detailSql.as('detail'),
    ]);
}

/** An entry to write with a change of its order (orderTimeline.changed). */
export interface EntryOf {
  at: Date;
  kind: TimelineKind;
  summary: string;
  detail?: Record<string, unknown>;
  /** The order's attempt as the change left it goes into the detail too (`attempt`). */
  withAttempt?: boolean;
}

/**
 * The detail as stored: the caller's, with the correlation id in force (the TV's request, a peer's message, a renewal's
 * run).
 */
function detailOf(detail: Record<string, unknown> | undefined): string | null {
  const correlationId = correlation.current();
  const more = correlationId ? { ...detail, correlationId } : detail;
  return more ? JSON.stringify(more) : null;
}

/**
 * The changes of orders, and the changes with their entries, each built and compiled once per key: each call
 * site's few shapes, a few dozen keys a dialect.
 */
const changes = preparedQueries(128);

type ChangeRead = OrderRow & { [TARGETS]?: WebhookTarget[] };

/**
 * The WITH statement of changedInOne: the change `m`, its entries `t` (ENTRY_VALUES values each, after the
 * change's own), its announcement, and with `withTargets` the active webhooks.
 */
function changeWithEntries(
  db: BackendDb,
  change: OrderChange,
  withAttempt: readonly boolean[],
  withTargets: boolean,
  params: unknown[],
) {
  const own = change.params.length;
  const entryAt = (i: number) => params.slice(own + i * ENTRY_VALUES, own + (i + 1) * ENTRY_VALUES);
  return (db as Kysely<any>)
    .with('m', () => change.build(db, ...params.slice(0, own)) as never)
    .with('t', (qc) =>
      qc
        .insertInto('order_timeline')
        .columns(['id', 'order_id', 'at', 'kind', 'summary', 'detail'])
        .expression((eb: ExpressionBuilder<any, 'm'>) =>
          withAttempt.map((a, i) => entryFrom(eb, entryAt(i), a)).reduce((all, next) => all.unionAll(next)),
        ),
    )
    .selectFrom(['m', announceChanged.as('n')])
    .selectAll('m')
    .$if(withTargets, (q) => q.select(webhookStore.targetsColumn.as(TARGETS))) as Compilable<ChangeRead>;
}

/**
 * changed() on PostgreSQL: the change, its entries and its announcement in one WITH statement; with
 * `withTargets`, the active webhooks read by it too, kept for the rest of the transaction. Built and
 * compiled once per change's key, count of entries (and which add the attempt) and `withTargets`.
 */
async function changedInOne(
  trx: BackendDb,
  change: OrderChange,
  entries: readonly EntryOf[],
  withTargets: boolean,
): Promise<OrderRow | undefined> {
  const withAttempt = entries.map((e) => e.withAttempt === true);
  const key = `with ${change.key} entries ${withAttempt.map((a) => (a ? 'a' : 'e')).join('')} ${withTargets}`;
  const build = (db: BackendDb, ...p: unknown[]) => changeWithEntries(db, change, withAttempt, withTargets, p);
  const params = [...change.params, ...entries.flatMap(entryParams)];
  const read = (await changes(trx, key, build, ...params)).rows[0];
  if (!read) return undefined;
  const { [TARGETS]: targets, ...row } = read;
  if (targets) webhookStore.readIn(trx, targets);
  announcedInStatement(row);
  return row;
}

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
    await insertEntry(trx, randomUUID(), orderId, at.toISOString(), kind, summary, detailOf(detail));
  },

  /**
   * Runs `change` (an INSERT or a conditional UPDATE of one order, RETURNING
   * the order) and writes `entry` (and `more`, in that order) for the order it returned, if it returned
   * one: the order as the change left it, or undefined. On PostgreSQL both go
   * in ONE statement (a data-modifying WITH: one round trip, not two, and the
   * entry exactly when the change was made), which also announces the change
   * to the other instances (NOTIFY, delivered at the commit: PgOrderEvents then
   * sends none for the row); on SQLite, where a statement is no round trip, as
   * two.
   */
  async changed(
    trx: BackendDb,
    change: OrderChange,
    entry: EntryOf,
    ...more: EntryOf[]
  ): Promise<OrderRow | undefined> {
    const entries = [entry, ...more];
    if (!onPostgres(trx)) {
      const row = (await changes(trx, change.key, change.build, ...change.params)).rows[0];
      if (row && more.length === 0) {
        const withAttempt = entry.withAttempt ? { ...entry.detail, attempt: row.attempt } : entry.detail;
        await insertEntry(
          trx,
          randomUUID(),
          row.id,
          entry.at.toISOString(),
          entry.kind,
          entry.summary,
          detailOf(withAttempt),
        );
      } else if (row) {
        // Several entries of one change: one statement, in the order given.
        const values = entries.map((e) => ({
          id: randomUUID(),
          order_id: row.id,
          at: e.at.toISOString(),
          kind: e.kind,
          summary: e.summary,
          detail: detailOf(e.withAttempt ? { ...e.detail, attempt: row.attempt } : e.detail),
        }));
        await trx.insertInto('order_timeline').values(values).execute();
      }
      return row;
    }
    return changedInOne(trx, change, entries, false);
  },

  /**
   * changed(), for a move of the order's status, whose webhook event the caller writes in the same
   * transaction: on PostgreSQL the move's statement also reads the active webhooks the event fans out to
   * (webhookStore.readIn), so the event costs no read of its own (issue 30: two a checkout). Only inside a
   * transaction; on SQLite as changed() (the event reads them).
   */
  async moved(trx: BackendDb, change: OrderChange, entry: EntryOf, ...more: EntryOf[]): Promise<OrderRow | undefined> {
    if (!onPostgres(trx) || !trx.isTransaction) return this.changed(trx, change, entry, ...more);
    return changedInOne(trx, change, [entry, ...more], true);
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

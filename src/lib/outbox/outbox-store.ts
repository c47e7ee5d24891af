import { CompiledQuery, sql, type Kysely, type QueryCreator } from 'kysely';
import type { CommonTables } from '../db/common-tables.ts';
import { inTurn, preparedQueries, preparedQuery } from '../db/prepared-query.ts';

/** A message as a worker delivers it (what its claim returns). */
export interface OutboxMessage {
  id: string;
  topic: string;
  payload: string;
  attempts: number;
  correlation_id: string | null;
}

/** Which topics a claim may take: all, only these, or all but these. */
export type TopicFilter = { only: readonly string[] } | { except: readonly string[] } | undefined;

/** A message as `enqueue` writes it: pending, leased already when a worker of this process took it. */
export interface NewMessage {
  id: string;
  topic: string;
  payload: string;
  nextAttemptAt: string;
  lockedUntil: string | null;
  createdAt: string;
  correlationId: string | null;
}

/**
 * The insert of one message, as a statement not yet run: the outbox's own (`insertMessage`), or a part of
 * another store's statement that writes its row with the message (on PostgreSQL the SMS log writes a queued
 * SMS and the message that sends it in one data-modifying WITH, issue 30). Built here, by the outbox's store.
 */
export function messageInsert(db: QueryCreator<CommonTables>, m: NewMessage) {
  return db.insertInto('outbox').values({
    id: m.id,
    topic: m.topic,
    payload: m.payload,
    status: 'pending',
    attempts: 0,
    next_attempt_at: m.nextAttemptAt,
    locked_until: m.lockedUntil,
    last_error: null,
    created_at: m.createdAt,
    done_at: null,
    correlation_id: m.correlationId,
  });
}

/** A message's values, in the order its prepared inserts take them (messageValues). */
export type MessageValues = [
  id: string,
  topic: string,
  payload: string,
  nextAttemptAt: string,
  lockedUntil: string | null,
  createdAt: string,
  correlationId: string | null,
];
/** `m`'s values, for a prepared statement that inserts it (the outbox's own, or another store's WITH). */
export const messageValues = (m: NewMessage): MessageValues => [
  m.id,
  m.topic,
  m.payload,
  m.nextAttemptAt,
  m.lockedUntil,
  m.createdAt,
  m.correlationId,
];

// Every change that has a side effect writes one of these: built and compiled once (preparedQuery, whose
// parameters are positional).
const insertMessage = preparedQuery(
  (
    db: Kysely<CommonTables>,
    ...[id, topic, payload, nextAttemptAt, lockedUntil, createdAt, correlationId]: MessageValues
  ) => messageInsert(db, { id, topic, payload, nextAttemptAt, lockedUntil, createdAt, correlationId }),
);

/**
 * The ids of the first `limit` pending messages due by `now` (or the one `onlyId`, due or not) of the topics
 * `topics` lets through, not leased, in the order of the `outbox_due` index, so the scan stops at `limit`:
 * ordering by creation sorted every due row first, which cost milliseconds per claim with a renewal day's backlog.
 * Its values are taken in turn (`next`): now, the one id (if `one`), the topics (`only` or `except`), the limit.
 */
function dueMessages(db: Kysely<CommonTables>, c: ClaimShape, next: <T>() => T) {
  const now = next<string>();
  const onlyId = c.one ? next<string>() : undefined;
  const topics = Array.from({ length: c.topics }, () => next<string>());
  return db
    .selectFrom('outbox')
    .select('id')
    .where('status', '=', 'pending')
    .$if(!c.one, (q) => q.where('next_attempt_at', '<=', now))
    .$if(c.one, (q) => q.where('id', '=', onlyId!))
    .$if(c.filter === 'only', (q) => q.where('topic', 'in', topics))
    .$if(c.filter === 'except', (q) => q.where('topic', 'not in', topics))
    .where((w) => w.or([w('locked_until', 'is', null), w('locked_until', '<', now)]))
    .orderBy('next_attempt_at')
    .limit(next<number>());
}

/** What decides a claim's SQL: one message or the due ones, how topics filter it and how many they are. */
interface ClaimShape {
  one: boolean;
  filter: 'only' | 'except' | 'all';
  topics: number;
  postgres: boolean;
}

/** A claim's statement, of its values (dueMessages's, then the lease). */
function claimOf(db: Kysely<CommonTables>, c: ClaimShape, values: unknown[]) {
  const next = inTurn(values);
  const due = dueMessages(db, c, next);
  const lease = next<string>();
  if (!c.postgres)
    return db
      .updateTable('outbox')
      .set({ locked_until: lease })
      .where('id', 'in', due)
      .returning(['id', 'topic', 'payload', 'attempts', 'correlation_id']);
  // PostgreSQL locks the due rows once, in a materialized CTE, then updates them by key. Written as
  // `id in (subquery)`, the prepared statement's generic plan (its statistics taken before a renewal day's
  // backlog) rescanned the locking subquery for every pending row: 17-22 ms a claim with 2,000 waiting.
  // The rows are not checked again here: the lock's own recheck (of a row changed since the snapshot) has
  // checked them, and once locked no one else moves them; a check here made the plan scan every pending row.
  return db
    .with(
      (w) => w('due').materialized(),
      () => due.forUpdate().skipLocked(),
    )
    .updateTable('outbox')
    .set({ locked_until: lease })
    .from('due')
    .whereRef('outbox.id', '=', 'due.id')
    .returning(['outbox.id', 'outbox.topic', 'outbox.payload', 'outbox.attempts', 'outbox.correlation_id']);
}

/** Claims, built and compiled once per shape (a worker's topics, one message or the due ones). */
const claims = preparedQueries();

/**
 * The messages of a batch, named by one parameter (an array on PostgreSQL, a JSON array on SQLite), so that a
 * batch is one SQL text whatever its size.
 */
const idIn = (ids: string[] | string, postgres: boolean) =>
  postgres ? sql<boolean>`"id" = any(${ids})` : sql<boolean>`"id" in (select "value" from json_each(${ids}))`;

/**
 * Messages their workers delivered meanwhile: done, in one statement (a worker's done tick, issue 30). Their
 * ids are one parameter (a JSON array on SQLite, an array on PostgreSQL), so that every batch is one SQL text,
 * prepared once, not one per count of ids. Built and compiled once (preparedQuery). A message another worker
 * delivered and finished meanwhile (its lease had expired) stays as it ended.
 */
const markHandledSqlite = preparedQuery((db: Kysely<CommonTables>, idsJson: string, doneAt: string) =>
  db
    .updateTable('outbox')
    .set((eb) => ({ status: 'done', done_at: doneAt, locked_until: null, attempts: eb('attempts', '+', 1) }))
    .where(idIn(idsJson, false))
    .where('status', '=', 'pending'),
);
const markHandledPostgres = preparedQuery((db: Kysely<CommonTables>, ids: string[], doneAt: string) =>
  db
    .updateTable('outbox')
    .set((eb) => ({ status: 'done', done_at: doneAt, locked_until: null, attempts: eb('attempts', '+', 1) }))
    .where(idIn(ids, true))
    .where('status', '=', 'pending'),
);

/**
 * Messages their senders delivered inline: done, unless a worker leased them meanwhile; one statement for a
 * tick's batch (markAllDelivered), one SQL text whatever its size. Built and compiled once (preparedQuery).
 */
const markDeliveredSqlite = preparedQuery((db: Kysely<CommonTables>, idsJson: string, doneAt: string) =>
  db
    .updateTable('outbox')
    .set({ status: 'done', done_at: doneAt })
    .where(idIn(idsJson, false))
    .where('status', '=', 'pending')
    .where('locked_until', 'is', null),
);
const markDeliveredPostgres = preparedQuery((db: Kysely<CommonTables>, ids: string[], doneAt: string) =>
  db
    .updateTable('outbox')
    .set({ status: 'done', done_at: doneAt })
    .where(idIn(ids, true))
    .where('status', '=', 'pending')
    .where('locked_until', 'is', null),
);

/**
 * The only writer of the `outbox` table (its retention aside, which deletes delivered messages by age): what
 * `enqueue` writes and how workers claim, finish and give up messages. The guarantees live in these
 * statements: a lease is taken by one conditional UPDATE, so two workers never hold one message; an inline
 * delivery is marked done only while no worker holds it.
 */
export const outboxStore = {
  insert: (db: Kysely<any>, m: NewMessage) => insertMessage(db as Kysely<CommonTables>, ...messageValues(m)),

  /**
   * Messages delivered by their senders inline within a short tick (markDoneSoon), done in one statement, each
   * unless a worker has leased it meanwhile. The ids are one parameter (a JSON array on SQLite, an array on
   * PostgreSQL), so every batch is one SQL text whatever its size.
   */
  markAllDelivered: async (db: Kysely<any>, ids: readonly string[], doneAt: string, postgres: boolean) => {
    if (ids.length === 0) return;
    if (postgres) await markDeliveredPostgres(db as Kysely<CommonTables>, [...ids], doneAt);
    else await markDeliveredSqlite(db as Kysely<CommonTables>, JSON.stringify(ids), doneAt);
  },

  /**
   * Deliveries that succeeded, each once (attempts grows by one), in one statement: the worker's batch of
   * done marks. One that is no longer pending (finished by another worker once its lease expired) is left.
   */
  markHandled: async (db: Kysely<CommonTables>, ids: readonly string[], doneAt: string, postgres: boolean) => {
    if (ids.length === 0) return;
    if (postgres) await markHandledPostgres(db, [...ids], doneAt);
    else await markHandledSqlite(db, JSON.stringify(ids), doneAt);
  },

  /** Back to pending, due at `at`, with the failure kept; `status` ends it (refused, or failed too often). */
  async failed(
    db: Kysely<CommonTables>,
    id: string,
    f: { attempts: number; error: string; at: string; status: 'pending' | 'dead' | 'dead_letter' },
  ): Promise<void> {
    await db
      .updateTable('outbox')
      .set({
        status: f.status,
        attempts: f.attempts,
        last_error: f.error.slice(0, 500),
        locked_until: null,
        next_attempt_at: f.at,
      })
      .where('id', '=', id)
      .execute();
  },

  /**
   * Leases up to `limit` pending messages due by `now` (or the one `onlyId`, due or not) of the topics
   * `topics` lets through, until `lease`. On PostgreSQL workers of several instances skip each other's
   * locked rows, and a row changed since the statement began is checked again as it is locked.
   */
  async claim(
    db: Kysely<CommonTables>,
    c: { now: string; lease: string; limit: number; onlyId?: string; topics: TopicFilter; postgres: boolean },
  ): Promise<OutboxMessage[]> {
    const topics = c.topics === undefined ? [] : 'only' in c.topics ? c.topics.only : c.topics.except;
    const filter = c.topics === undefined ? 'all' : 'only' in c.topics ? 'only' : 'except';
    const shape: ClaimShape = { one: c.onlyId !== undefined, filter, topics: topics.length, postgres: c.postgres };
    const values = [c.now, ...(shape.one ? [c.onlyId] : []), ...topics, c.limit, c.lease];
    const key = `claim ${shape.one} ${filter} ${topics.length} ${c.postgres}`;
    const build = (d: Kysely<CommonTables>, ...p: unknown[]) => claimOf(d, shape, p);
    return (await claims(db, key, build, ...values)).rows as OutboxMessage[];
  },

  /**
   * On SQLite, the claim of the first due messages of some topics, read from the `outbox_topic_due` index
   * (one range per topic). The planner's choice, the `outbox_due` index, stepped over every due message of
   * the other workers' topics: on renewal day, with 20,000 charges waiting for their own lane, 1.5–3 ms a
   * claim against 35 µs this way; with nothing waiting, 10 µs against 35 µs (docs/benchmarks-history.md).
   * Kysely cannot say INDEXED BY, so the statement is written here, once per worker; the store must have
   * the index (outboxTopicMigration), or every such claim fails, loudly.
   */
  topicsClaim(
    db: Kysely<CommonTables>,
    topics: readonly string[],
  ): (now: string, lease: string, limit: number) => Promise<OutboxMessage[]> {
    const text =
      'update "outbox" set "locked_until" = ? where "id" in' +
      ' (select "id" from "outbox" indexed by "outbox_topic_due"' +
      ` where "status" = 'pending' and "topic" in (${topics.map(() => '?').join(', ')}) and "next_attempt_at" <= ?` +
      ' and ("locked_until" is null or "locked_until" < ?) order by "next_attempt_at" limit ?)' +
      ' returning "id", "topic", "payload", "attempts", "correlation_id"';
    return async (now, lease, limit) =>
      (await db.executeQuery<OutboxMessage>(CompiledQuery.raw(text, [lease, ...topics, now, now, limit]))).rows;
  },
};

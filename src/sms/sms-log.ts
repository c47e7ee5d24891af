import { sql, type Kysely, type QueryCreator, type RawBuilder } from 'kysely';
import type { CommonTables } from '../lib/db/common-tables.ts';
import { onPostgres } from '../lib/db/dialect-of.ts';
import { preparedQueries, preparedQuery } from '../lib/db/prepared-query.ts';
import { TickBatches } from '../lib/db/tick-batches.ts';
import { messageInsert, messageValues, type MessageValues, type NewMessage } from '../lib/outbox/outbox-store.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Count } from '../lib/metrics/service-metrics.ts';

export type SmsStatus = 'queued' | 'sent' | 'delivered' | 'failed';

/** The states a delivery state may move on from (only forward). */
const PREDECESSORS: Record<SmsStatus, SmsStatus[]> = {
  queued: [],
  sent: ['queued'],
  delivered: ['queued', 'sent'],
  failed: ['queued', 'sent'],
};

/**
 * How long a move of an SMS told by its gateway waits for others to be written with them (advanceSoon). A
 * hand-over waits for its "sent" inside its outbox delivery, holding one of the worker's slots that the
 * messages between the services share: 20 ms, not 100, keeps that wait small on renewal day, and at the
 * bench's checkout load it writes as few statements (payment server 47.9 a checkout at 20 ms, 48.3 at 100).
 */
const MOVE_TICK_MS = 20;
/** The moves to each state told within a tick, by store: each SMS with its gateway id, if one came. */
const moves = new TickBatches<Move, Set<string>>(MOVE_TICK_MS, 500);

interface Move {
  id: string;
  gatewayId: string | null;
  now: Date;
}

/**
 * Moves the SMS of `told` (each with its gateway id, if one came) to `status`, those still in one of its
 * predecessors, in one statement, stamped with the latest time told; returns the ids it moved. The ids come as
 * one JSON object, so that every such statement is one SQL text whatever the count.
 */
async function moveAll(db: Kysely<any>, status: SmsStatus, told: Move[]) {
  const now = new Date(Math.max(...told.map((m) => m.now.getTime())));
  const ids = JSON.stringify(Object.fromEntries(told.map((m) => [m.id, m.gatewayId])));
  const { rows } = await moveStatements(db, status, moveAllTo(status), status, now.toISOString(), ids);
  return new Set(rows.map((r) => r.id));
}

/** moveAll's statements, built and compiled once for each status (whose predecessors they name) and dialect. */
const moveStatements = preparedQueries(8);

/** moveAll's statement for a move to `status`, of its values. */
const moveAllTo =
  (status: SmsStatus) =>
  (db: Kysely<any>, to: string, now: string, ids: string): RawBuilder<{ id: string }> => {
    const set = sql`"status" = ${to}, "updated_at" = ${now}`;
    const before = sql`"sms_messages"."status" in (${sql.join(PREDECESSORS[status])})`;
    // On PostgreSQL the rows are found through the primary key, by an array of the ids built once: joined to
    // `json_each_text` instead, the prepared statement's generic plan hashed the function's rows against a
    // scan of the whole table (2,183 scans reading 3.5 million rows over a renewal day of 3,000).
    return onPostgres(db)
      ? sql<{ id: string }>`update "sms_messages"
        set ${set}, "gateway_id" = coalesce(cast(${ids} as json) ->> "sms_messages"."id", "sms_messages"."gateway_id")
        where "sms_messages"."id" = any(array(select json_object_keys(cast(${ids} as json)))) and ${before}
        returning "sms_messages"."id"`
      : sql<{ id: string }>`update "sms_messages"
        set ${set}, "gateway_id" = coalesce("s"."value", "sms_messages"."gateway_id")
        from json_each(${ids}) as "s"
        where "sms_messages"."id" = "s"."key" and ${before}
        returning "sms_messages"."id"`;
  };

/** A queued SMS as the log writes it. */
interface QueuedSms {
  id: string;
  kind: string;
  to: string;
  from: string;
  now: Date;
  ref?: string;
}

/** A queued SMS's row, of its values: `now` is when it was created and last changed. */
const queuedRow = (id: string, kind: string, ref: string | null, to: string, from: string, now: string) => ({
  id,
  kind,
  ref,
  gateway_id: null,
  to_phone: to,
  sender: from,
  status: 'queued',
  created_at: now,
  updated_at: now,
});

/** A queued SMS's values, in queuedRow's order. */
type QueuedValues = Parameters<typeof queuedRow>;
const queuedValues = (sms: QueuedSms): QueuedValues => [
  sms.id,
  sms.kind,
  sms.ref ?? null,
  sms.to,
  sms.from,
  sms.now.toISOString(),
];

/** The insert of a queued SMS (none if it is there already), of its values. */
const insertQueued = (db: QueryCreator<CommonTables>, ...sms: QueuedValues) =>
  db
    .insertInto('sms_messages')
    .values(queuedRow(...sms))
    .onConflict((oc) => oc.column('id').doNothing());

// Every SMS is queued with the change that sends it: built and compiled once (preparedQuery).
const queue = preparedQuery((db: Kysely<CommonTables>, ...sms: QueuedValues) => insertQueued(db, ...sms));
const queueWithMessage = preparedQuery((db: Kysely<CommonTables>, ...values: [...MessageValues, ...QueuedValues]) => {
  const [id, topic, payload, nextAttemptAt, lockedUntil, createdAt, correlationId, ...sms] = values;
  const message = { id, topic, payload, nextAttemptAt, lockedUntil, createdAt, correlationId };
  const withMessage = db.with('message', (qc) => messageInsert(qc, message));
  return insertQueued(withMessage as unknown as QueryCreator<CommonTables>, ...sms);
});

/**
 * The delivery state of every SMS a service sends, without its text (a code
 * SMS's text is a secret): queued with the state change that asked for it,
 * sent when the gateway took it, delivered or failed by delivery report.
 */
export const smsLog = {
  async queued(trx: Kysely<any>, sms: QueuedSms) {
    await queue(trx as Kysely<CommonTables>, ...queuedValues(sms));
  },

  /**
   * On PostgreSQL only: the SMS queued, and `message` (the outbox message that sends it) written, in ONE
   * statement (issue 30: two SMS a checkout, each two inserts before). A data-modifying WITH whose part is
   * the outbox store's own insert of the message (`messageInsert`): PostgreSQL runs it to completion whatever
   * the outer insert does, so the two rows are written together or the statement fails. SQLite has no INSERT
   * inside a WITH; there `queued` and the outbox's insert stay two statements.
   */
  async queuedWithMessage(trx: Kysely<any>, sms: QueuedSms, message: NewMessage) {
    if (!onPostgres(trx)) throw new Error('queuedWithMessage: an INSERT inside a WITH needs PostgreSQL');
    await queueWithMessage(trx as Kysely<CommonTables>, ...messageValues(message), ...queuedValues(sms));
  },

  /**
   * The same move, written with every other move to `status` told within a short tick (a gateway's answers
   * and reports of concurrent checkouts), in one statement (issue 30); resolves once written, with whether
   * this call moved it. Only outside a transaction: the write comes after the caller's turn.
   */
  advanceSoon(db: Kysely<any>, id: string, status: SmsStatus, now: Date, gatewayId?: string): Promise<boolean> {
    if (PREDECESSORS[status].length === 0) return Promise.resolve(false);
    // Told twice in one tick: the first moves it, if anything does.
    if (moves.gathering(db, status).some((m) => m.id === id)) return Promise.resolve(false);
    const told = { id, gatewayId: gatewayId ?? null, now };
    return moves.add(db, status, told, (all) => moveAll(db, status, all)).then((moved) => moved.has(id));
  },

  async advance(db: Kysely<any>, id: string, status: SmsStatus, now: Date, gatewayId?: string): Promise<boolean> {
    if (PREDECESSORS[status].length === 0) return false;
    const res = await (db as unknown as Kysely<CommonTables>)
      .updateTable('sms_messages')
      .set({ status, updated_at: now.toISOString(), ...(gatewayId ? { gateway_id: gatewayId } : {}) })
      .where('id', '=', id)
      .where('status', 'in', PREDECESSORS[status])
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  },

  /**
   * Applies a delivery report, counting an SMS that newly reached its final
   * state; returns whether it newly marked the SMS failed (to act on it once).
   */
  async report(db: Kysely<any>, id: string, status: SmsStatus, now: Date, count?: Count): Promise<boolean> {
    const moved = await smsLog.advanceSoon(db, id, status, now);
    if (moved && (status === 'delivered' || status === 'failed')) count?.({ event: 'sms_finished', state: status });
    return moved && status === 'failed';
  },

  async byId(db: Kysely<any>, id: string) {
    return (db as unknown as Kysely<CommonTables>)
      .selectFrom('sms_messages')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
  },

  /** How many SMS of a kind were queued for one thing (the code SMS of a payment). */
  async countFor(db: Kysely<any>, ref: string, kind: string): Promise<number> {
    const row = await (db as unknown as Kysely<CommonTables>)
      .selectFrom('sms_messages')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('ref', '=', ref)
      .where('kind', '=', kind)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  },

  /** Every SMS queued for one thing (an order's link SMS, a payment's code SMS), oldest first. */
  async ofRefs(db: Kysely<any>, refs: string[]) {
    if (refs.length === 0) return [];
    return (db as unknown as Kysely<CommonTables>)
      .selectFrom('sms_messages')
      .selectAll()
      .where('ref', 'in', refs)
      .orderBy('created_at')
      .execute();
  },

  /** The newest SMS, for operators (never their text: the table holds none). */
  async list(db: Kysely<any>, filter: { phone?: string; status?: string; limit: number }) {
    let q = (db as unknown as Kysely<CommonTables>)
      .selectFrom('sms_messages')
      .selectAll()
      .orderBy('created_at', 'desc')
      .limit(filter.limit);
    if (filter.phone) q = q.where('to_phone', '=', filter.phone);
    if (filter.status) q = q.where('status', '=', filter.status);
    return q.execute();
  },

  /** Our SMS id for a gateway's message id, if the SMS is ours. */
  async byGatewayId(db: Kysely<any>, gatewayId: string): Promise<string | undefined> {
    const row = await (db as unknown as Kysely<CommonTables>)
      .selectFrom('sms_messages')
      .select('id')
      .where('gateway_id', '=', gatewayId)
      .executeTakeFirst();
    return row?.id;
  },

  /**
   * The same, waiting briefly when the receipt beat us to recording the
   * gateway id (an SMSC may report within milliseconds of accepting).
   */
  async byGatewayIdSoon(db: Kysely<any>, gatewayId: string): Promise<string | undefined> {
    for (let i = 0; i < 10; i++) {
      const id = await smsLog.byGatewayId(db, gatewayId);
      if (id) return id;
      await sleep(100);
    }
    return undefined;
  },
};

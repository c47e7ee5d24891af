import { correlation } from '../correlation.ts';
import type { Kysely } from 'kysely';
import type { CommonTables } from '../db/common-tables.ts';
import { preparedQuery } from '../db/prepared-query.ts';

/** An outbox topic, typed by the payload its messages carry (the type exists only for the compiler). */
export interface Topic<P> {
  readonly name: string;
  readonly payload?: P;
}

export const topic = <P>(name: string): Topic<P> => ({ name });

/** Handles one message; `attempt` counts deliveries of it, from 1, so a handler can give up in its own way. */
export type OutboxHandler = (payload: any, messageId: string, attempt: number) => Promise<void>;

/** The handler of a topic, typed by its payload, as the outbox worker's table takes it. */
export function handler<P>(
  t: Topic<P>,
  fn: (payload: P, messageId: string, attempt: number) => Promise<void>,
): [string, OutboxHandler] {
  return [t.name, fn];
}

// Every change that has a side effect writes one of these: built and compiled once (preparedQuery).
const insertMessage = preparedQuery(
  (
    db: Kysely<CommonTables>,
    id: string,
    topic: string,
    payload: string,
    nextAttemptAt: string,
    createdAt: string,
    correlationId: string | null,
  ) =>
    db.insertInto('outbox').values({
      id,
      topic,
      payload,
      status: 'pending',
      attempts: 0,
      next_attempt_at: nextAttemptAt,
      locked_until: null,
      last_error: null,
      created_at: createdAt,
      done_at: null,
      correlation_id: correlationId,
    }),
);

/**
 * Writes a message to the outbox inside the caller's transaction, so the side
 * effect (an SMS, a notification, a provisioning) happens if and only if the
 * state change that asked for it commits.
 */
export async function enqueue<P>(
  trx: Kysely<any>,
  message: {
    id: string;
    topic: Topic<P>;
    payload: P;
    now: Date;
    delayMs?: number;
    /** Else the one in force. */ correlationId?: string | null;
  },
): Promise<void> {
  await insertMessage(
    trx as unknown as Kysely<CommonTables>,
    message.id,
    message.topic.name,
    JSON.stringify(message.payload),
    new Date(message.now.getTime() + (message.delayMs ?? 0)).toISOString(),
    message.now.toISOString(),
    message.correlationId ?? correlation.current() ?? null,
  );
}

// Run by every inline delivery: built and compiled once too.
const markDelivered = preparedQuery((db: Kysely<CommonTables>, id: string, doneAt: string) =>
  db
    .updateTable('outbox')
    .set({ status: 'done', done_at: doneAt })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .where('locked_until', 'is', null),
);

/**
 * Marks a message delivered by its sender itself (the work was done inline),
 * unless a worker has already leased it; then the worker runs it again, which
 * every handler tolerates.
 */
export async function markDone(db: Kysely<any>, id: string, now: Date): Promise<void> {
  await markDelivered(db as unknown as Kysely<CommonTables>, id, now.toISOString());
}

/** A handler that throws this gives up on the message instead of retrying it. */
export class PermanentFailure extends Error {}

/**
 * A handler that throws this keeps its message and has it delivered again at
 * `at` (a handler with a retry schedule of its own, like webhooks).
 */
export class RetryLater extends Error {
  constructor(
    readonly at: Date,
    why: string,
  ) {
    super(why);
  }
}

import { correlation } from '../correlation.ts';
import type { Kysely } from 'kysely';
import { onPostgres } from '../db/dialect-of.ts';
import { transactionOf } from '../db/in-transaction.ts';
import { TickBatches } from '../db/tick-batches.ts';
import { outboxStore, type NewMessage, type OutboxMessage } from './outbox-store.ts';

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

export type { OutboxMessage } from './outbox-store.ts';

/** A worker's promise to deliver one message of a committing transaction itself, once it has committed. */
export interface Reservation {
  /** The lease the message is written with: no other worker claims it meanwhile. */
  lockedUntil: Date;
  /** The transaction committed: deliver it now (no claim). */
  deliver(m: OutboxMessage): void;
  /** The transaction rolled back: the slot is free again. */
  cancel(): void;
}

/** An outbox worker as enqueue sees it: it may take a message of a committing transaction, and be told one is due. */
export interface OutboxTaker {
  /** A slot for a message of `topic`, due now, if this worker delivers that topic and has one free. */
  reserve(topic: string, now: Date): Reservation | undefined;
  /** A message of `topic` that it did not take became due: its next kick must claim. */
  due(topic: string): void;
}

/** Messages due now written where enqueue could not tell which store's workers should claim them. */
let unplaced = 0;
/** How many such messages there were so far: a worker that sees this grow claims at its next kick. */
export const unplacedDue = () => unplaced;

/** The running workers of each store (by its Kysely instance), for enqueue. */
const takers = new WeakMap<object, Set<OutboxTaker>>();

/** A worker starts (or stops) taking messages of the transactions on `db`. */
export function registerTaker(db: object, taker: OutboxTaker, on: boolean): void {
  let set = takers.get(db);
  if (!set) takers.set(db, (set = new Set()));
  if (on) set.add(taker);
  else set.delete(taker);
}

/**
 * Writes a message to the outbox inside the caller's transaction, so the side
 * effect (an SMS, a notification, a provisioning) happens if and only if the
 * state change that asked for it commits.
 *
 * Claim and deliver in one step (issue 30): a message due at once, queued in
 * a transaction of inTransaction, is written already leased by a worker of
 * this process that has a free slot, and handed to it when the transaction
 * has committed; it is delivered with no claim statement. A worker that dies
 * before it has delivered it leaves the lease to expire, and any worker
 * claims it then, as a claimed message. Otherwise (no free slot, no
 * inTransaction, a message due later) it is written unleased and claimed as
 * before: the workers of its topic claim at their next kick.
 *
 * `write` writes the message's row: by default the outbox store's insert; a store that writes its own row
 * with the message in one statement (the SMS log, on PostgreSQL) passes its own, built around the outbox
 * store's insert (`messageInsert`).
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
  write: (row: NewMessage) => Promise<unknown> = (row) => outboxStore.insert(trx, row),
): Promise<void> {
  const payload = JSON.stringify(message.payload);
  const correlationId = message.correlationId ?? correlation.current() ?? null;
  const delayed = (message.delayMs ?? 0) > 0;
  const tx = delayed ? undefined : transactionOf(trx);
  const set = tx && takers.get(tx.db);
  let reservation: Reservation | undefined;
  for (const taker of set ?? []) if ((reservation = taker.reserve(message.topic.name, message.now))) break;
  await write({
    id: message.id,
    topic: message.topic.name,
    payload,
    nextAttemptAt: new Date(message.now.getTime() + (message.delayMs ?? 0)).toISOString(),
    lockedUntil: reservation ? reservation.lockedUntil.toISOString() : null,
    createdAt: message.now.toISOString(),
    correlationId,
  }).catch((err) => {
    reservation?.cancel();
    throw err;
  });
  if (reservation) {
    const r = reservation;
    const m = { id: message.id, topic: message.topic.name, payload, attempts: 0, correlation_id: correlationId };
    tx!.onEnd((committed) => (committed ? r.deliver(m) : r.cancel()));
  } else if (!delayed) {
    // Due now and nobody here took it: the workers of its topic claim at their next kick. (One due later
    // is found by their periodic sweep.)
    const topicName = message.topic.name;
    const announce = () => {
      const here = takers.get(tx?.db ?? trx);
      // A transaction this module cannot place (not inTransaction's): every worker claims at its next kick.
      if (!here) unplaced++;
      for (const taker of here ?? []) taker.due(topicName);
    };
    if (tx) tx.onEnd((committed) => committed && announce());
    else announce();
  }
}

/** Inline deliveries' done marks waiting for their 20 ms tick, by store (at most 500 a statement). */
const inlineDone = new TickBatches<{ id: string; now: Date }, void>(20, 500);

/**
 * Marks a message delivered by its sender itself (the work was done inline, and has committed), unless a worker
 * has already leased it; then the worker runs it again, which every handler tolerates. Written with the other
 * inline deliveries' marks of the same short tick in one statement (issue 30: a checkout's attempt start and
 * fulfilment each cost a statement, or a transaction's BEGIN and COMMIT); resolves once written. Outside a
 * transaction only: the write comes after the caller's turn. A mark that is lost (an error, a crash before the
 * tick) leaves the message to its delayed retry, which every handler tolerates.
 */
export function markDoneSoon(db: Kysely<any>, id: string, now: Date): Promise<void> {
  return inlineDone.add(db, '', { id, now }, (marks) =>
    outboxStore.markAllDelivered(
      db,
      marks.map((m) => m.id),
      marks[0]!.now.toISOString(),
      onPostgres(db),
    ),
  );
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

import type { Kysely, Transaction } from 'kysely';
import { setTimeout as sleep } from 'node:timers/promises';
import { isStalePlan } from './preparing-client.ts';

/**
 * PostgreSQL's "deadlock detected" and "could not serialize", and SQLite's
 * "database is busy" after its busy timeout: safe to run the whole
 * transaction again. So is a kept plan gone stale (isStalePlan): its
 * connection has forgotten it, and the next run parses the text again.
 */
const RETRYABLE = new Set(['40P01', '40001', 'SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT']);
const retryable = (err: unknown) => RETRYABLE.has((err as { code?: string }).code ?? '') || isStalePlan(err);

/** What inTransaction knows of a transaction it runs: the store it runs on, and who waits for its end. */
interface Running {
  db: object;
  /** Told once the transaction has ended: whether it committed (durably), or rolled back. */
  ended: Array<(committed: boolean) => void>;
  /** Run, in order, after the transaction's own work and before its COMMIT. */
  last: Array<() => Promise<void>>;
}
const running = new WeakMap<object, Running>();

/**
 * The store a transaction of inTransaction runs on, and a way to hear whether it committed: so that
 * what the transaction queued (an outbox message it leased for this process) can be handed on after
 * the commit, and given up after a rollback, without a statement. `lastly` runs a write of the transaction
 * at its end, just before the COMMIT: a row many transactions update stays locked for that write and the
 * commit only, not for everything the transaction does after it. Undefined for any other transaction or
 * connection.
 */
export function transactionOf(
  trx: object,
): { db: object; onEnd(fn: (committed: boolean) => void): void; lastly(fn: () => Promise<void>): void } | undefined {
  const r = running.get(trx);
  return r && { db: r.db, onEnd: (fn) => void r.ended.push(fn), lastly: (fn) => void r.last.push(fn) };
}

/**
 * Runs `fn` in one database transaction, and runs it again (a few times, with
 * a short random pause) when the database aborted it as a deadlock victim, a
 * serialization failure or a lock it could not get in time. Everything a transaction does is inside `fn`, so a
 * retry repeats it whole; side effects leave through the outbox only after
 * the commit.
 */
export async function inTransaction<DB, T>(db: Kysely<DB>, fn: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    let r: Running | undefined;
    try {
      const result = await db.transaction().execute(async (trx) => {
        const now: Running = { db, ended: [], last: [] };
        r = now;
        running.set(trx, now);
        const out = await fn(trx);
        // What asked to come last (a write to a row every transaction shares), so its lock is held briefly.
        for (const last of now.last.splice(0)) await last();
        return out;
      });
      end(r, true);
      return result;
    } catch (err) {
      end(r, false);
      if (!retryable(err) || attempt >= 5) throw err;
      await sleep(Math.random() * 20 * attempt);
    }
  }
}

function end(r: Running | undefined, committed: boolean): void {
  if (!r) return;
  const ended = r.ended.splice(0);
  for (const fn of ended) fn(committed);
}

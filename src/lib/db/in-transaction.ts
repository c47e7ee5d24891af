import type { Kysely, Transaction } from 'kysely';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * PostgreSQL's "deadlock detected" and "could not serialize", and SQLite's
 * "database is busy" after its busy timeout: safe to run the whole
 * transaction again.
 */
const RETRYABLE = new Set(['40P01', '40001', 'SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT']);

/**
 * Runs `fn` in one database transaction, and runs it again (a few times, with
 * a short random pause) when the database aborted it as a deadlock victim, a
 * serialization failure or a lock it could not get in time. Everything a transaction does is inside `fn`, so a
 * retry repeats it whole; side effects leave through the outbox only after
 * the commit.
 */
export async function inTransaction<DB, T>(db: Kysely<DB>, fn: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction().execute(fn);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (!code || !RETRYABLE.has(code) || attempt >= 5) throw err;
      await sleep(Math.random() * 20 * attempt);
    }
  }
}

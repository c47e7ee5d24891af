import type { Kysely, Transaction } from 'kysely';
import { inTransaction } from './in-transaction.ts';

/** A transaction's after-commit hooks, while a unit of work runs it; each runs once. */
interface Running {
  hooks: Set<() => void>;
  /** The hook `outboxWritten` registers: the unit's "wake the outbox workers". */
  kickOutbox: () => void;
}
const running = new WeakMap<object, Running>();

/**
 * A service's way to change its store: `run` runs `fn` in one transaction (retried whole, as
 * inTransaction does) and then, only once it has committed, the after-commit hooks registered inside it.
 * So whatever must follow a commit (waking the outbox workers for the messages it wrote) is said where
 * the cause is written, and no caller remembers it by hand afterwards.
 */
export interface UnitOfWork<DB> {
  run<T>(fn: (trx: Transaction<DB>) => Promise<T>): Promise<T>;
}

/** The units of work on `db`; `kickOutbox` wakes the service's outbox workers after a commit that wrote to it. */
export function unitOfWork<DB>(db: Kysely<DB>, kickOutbox: () => void = () => {}): UnitOfWork<DB> {
  return {
    async run(fn) {
      let hooks = new Set<() => void>();
      const result = await inTransaction(db, (trx) => {
        // A retried attempt starts with no hooks: those of the attempt that was rolled back go with it.
        hooks = new Set();
        running.set(trx, { hooks, kickOutbox });
        return fn(trx);
      });
      for (const hook of hooks) hook();
      return result;
    },
  };
}

/** The unit of work that runs `trx`; a hook given anywhere else would never run, which is a bug. */
function unitOf(trx: object): Running {
  const unit = running.get(trx);
  if (!unit) throw new Error('after-commit work asked for outside a unit of work: it would never run');
  return unit;
}

/** Runs `hook` once `trx` (a unit of work's) has committed; never if it rolls back. Once, however often asked. */
export function afterCommit(trx: object, hook: () => void): void {
  unitOf(trx).hooks.add(hook);
}

/** `trx` wrote to the outbox: its unit of work wakes the outbox workers once it has committed. */
export function outboxWritten(trx: object): void {
  const unit = unitOf(trx);
  unit.hooks.add(unit.kickOutbox);
}

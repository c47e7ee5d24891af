import type { Kysely } from 'kysely';
import type { Clock } from './clock.ts';
import type { CommonTables } from './db/common-tables.ts';
import { inTransaction } from './db/in-transaction.ts';
import { DomainError, rateLimited } from './errors.ts';

export interface RateRule {
  /** What the limit counts, for the error message ("payer submissions for this phone"). */
  what: string;
  limit: number;
  windowSeconds: number;
  /** The error code when the limit is hit (default RATE_LIMITED). */
  code?: string;
}

/**
 * Fixed-window counters kept in the service's database, so a limit holds
 * across restarts and across instances sharing the database.
 */
export interface OverLimit {
  rule: RateRule;
  retryAfterSeconds: number;
}

export class RateLimiter {
  constructor(
    private readonly db: Kysely<CommonTables>,
    private readonly clock: Clock,
  ) {}

  /** Counts one hit on each bucket and throws RATE_LIMITED (429) if any is over its limit. */
  async hit(buckets: ReadonlyArray<{ key: string; rule: RateRule }>): Promise<void> {
    // One transaction for all the buckets (one durable commit, not one each); the counts commit before refusing.
    const over = await inTransaction(this.db, (trx) => this.count(trx, buckets));
    if (over) throw this.refusal(over);
  }

  /**
   * Counts one hit on each bucket inside the caller's transaction, so a
   * request's limits commit with its own change (one durable commit); stops
   * at the first bucket over its limit and says which. The caller commits the
   * counts and then refuses with `refusal()`.
   */
  async count(trx: Kysely<any>, buckets: ReadonlyArray<{ key: string; rule: RateRule }>): Promise<OverLimit | undefined> {
    const nowMs = this.clock.now().getTime();
    for (const { key, rule } of buckets) {
      const windowMs = rule.windowSeconds * 1000;
      const start = Math.floor(nowMs / windowMs) * windowMs;
      const row = await (trx as Kysely<CommonTables>)
        .insertInto('rate_limits')
        .values({ bucket: key, window_start: new Date(start).toISOString(), hits: 1 })
        .onConflict((oc) => oc.columns(['bucket', 'window_start']).doUpdateSet((eb) => ({ hits: eb('rate_limits.hits', '+', 1) })))
        .returning('hits')
        .executeTakeFirstOrThrow();
      if (row.hits > rule.limit) return { rule, retryAfterSeconds: Math.max(1, Math.ceil((start + windowMs - nowMs) / 1000)) };
    }
    return undefined;
  }

  /** The 429 for a bucket over its limit. */
  refusal({ rule, retryAfterSeconds }: OverLimit): DomainError {
    if (rule.code) return new DomainError(rule.code, 429, `${rule.what}; try again in ${retryAfterSeconds} s.`, { retryAfterSeconds });
    return rateLimited(retryAfterSeconds, rule.what);
  }

  async prune(): Promise<void> {
    const cutoff = new Date(this.clock.now().getTime() - 24 * 3600 * 1000).toISOString();
    await this.db.deleteFrom('rate_limits').where('window_start', '<', cutoff).execute();
  }
}

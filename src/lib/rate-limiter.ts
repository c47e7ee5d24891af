import type { Kysely } from 'kysely';
import type { Clock } from './clock.ts';
import type { CommonTables } from './db/common-tables.ts';
import { inTransaction } from './db/in-transaction.ts';
import { preparedQuery } from './db/prepared-query.ts';
import { DomainError, rateLimited, type ErrorCode } from './errors.ts';

export interface RateRule {
  /** What the limit counts, for the error message ("payer submissions for this phone"). */
  what: string;
  limit: number;
  windowSeconds: number;
  /** The error code when the limit is hit (default RATE_LIMITED). */
  code?: ErrorCode;
}

/**
 * Fixed-window counters kept in the service's database, so a limit holds
 * across restarts and across instances sharing the database.
 */
export interface OverLimit {
  rule: RateRule;
  retryAfterSeconds: number;
}

// Every limited request runs this once per bucket it counts in: built and compiled once (preparedQuery).
const takeFromBucket = preparedQuery(
  (db: Kysely<CommonTables>, bucket: string, windowStart: string, n: number, limit: number) =>
    db
      .insertInto('rate_limits')
      .values({ bucket, window_start: windowStart, hits: n })
      .onConflict((oc) =>
        oc
          .columns(['bucket', 'window_start'])
          .doUpdateSet((eb) => ({ hits: eb('rate_limits.hits', '+', n) }))
          .where((eb) => eb(eb('rate_limits.hits', '+', n), '<=', limit)),
      )
      .returning('hits'),
);

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
   * request's limits commit with its own change (one durable commit). Each
   * bucket is taken by one conditional statement (`hits + 1 <= limit`), so
   * concurrent requests can never get more than `limit` through between
   * them; a refused request counts nowhere (the buckets it had already taken
   * are given back) and the caller refuses with `refusal()`.
   */
  async count(
    trx: Kysely<any>,
    buckets: ReadonlyArray<{ key: string; rule: RateRule }>,
  ): Promise<OverLimit | undefined> {
    const taken: Array<{ key: string; rule: RateRule }> = [];
    for (const bucket of buckets) {
      if (!(await this.take(trx, bucket.key, bucket.rule))) {
        for (const t of taken) await this.giveBack(trx, t.key, t.rule);
        return { rule: bucket.rule, retryAfterSeconds: this.retryAfter(bucket.rule) };
      }
      taken.push(bucket);
    }
    return undefined;
  }

  /**
   * Takes `n` from a bucket's window if that keeps it within the limit, in one
   * atomic statement (an upsert whose update is conditional); false, taking
   * nothing, when it would not.
   */
  async take(trx: Kysely<any>, key: string, rule: RateRule, n = 1): Promise<boolean> {
    if (n > rule.limit) return false;
    const row = (await takeFromBucket(trx as Kysely<CommonTables>, key, this.windowStart(rule), n, rule.limit)).rows[0];
    return row !== undefined;
  }

  /** Gives back what `take` took (the thing it counted did not happen, or was not a wrong try). */
  async giveBack(trx: Kysely<any>, key: string, rule: RateRule, n = 1): Promise<void> {
    await (trx as Kysely<CommonTables>)
      .updateTable('rate_limits')
      .set((eb) => ({ hits: eb('hits', '-', n) }))
      .where('bucket', '=', key)
      .where('window_start', '=', this.windowStart(rule))
      .where('hits', '>=', n)
      .execute();
  }

  /** How much of a bucket's current window is used, for operators. */
  async usage(key: string, rule: RateRule): Promise<{ windowStart: string; hits: number }> {
    const windowStart = this.windowStart(rule);
    const row = await this.db
      .selectFrom('rate_limits')
      .select('hits')
      .where('bucket', '=', key)
      .where('window_start', '=', windowStart)
      .executeTakeFirst();
    return { windowStart, hits: Number(row?.hits ?? 0) };
  }

  private windowStart(rule: RateRule): string {
    const windowMs = rule.windowSeconds * 1000;
    return new Date(Math.floor(this.clock.now().getTime() / windowMs) * windowMs).toISOString();
  }

  private retryAfter(rule: RateRule): number {
    const windowMs = rule.windowSeconds * 1000;
    const nowMs = this.clock.now().getTime();
    return Math.max(1, Math.ceil((Math.floor(nowMs / windowMs) * windowMs + windowMs - nowMs) / 1000));
  }

  /** The 429 for a bucket over its limit. */
  refusal({ rule, retryAfterSeconds }: OverLimit): DomainError {
    if (rule.code)
      return new DomainError(rule.code, `${rule.what}; try again in ${retryAfterSeconds} s.`, { retryAfterSeconds });
    return rateLimited(retryAfterSeconds, rule.what);
  }

  async prune(): Promise<void> {
    const cutoff = new Date(this.clock.now().getTime() - 24 * 3600 * 1000).toISOString();
    await this.db.deleteFrom('rate_limits').where('window_start', '<', cutoff).execute();
  }
}

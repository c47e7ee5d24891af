import { sql, type Kysely, type QueryResult } from 'kysely';
import type { Clock } from './clock.ts';
import type { CommonTables } from './db/common-tables.ts';
import { inTransaction } from './db/in-transaction.ts';
import { preparedQueries, preparedQuery } from './db/prepared-query.ts';
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

/**
 * Takes one hit from each of `n` buckets in one statement: a multi-row upsert (SQLite ≥ 3.35 and
 * PostgreSQL alike) whose update is conditional per row on that row's own limit (a CASE on the
 * bucket, since the limit is not a column), returning the buckets it took. A row the condition
 * refuses is neither changed nor returned. Built and compiled once per number of buckets.
 */
const takeFromBuckets = (() => {
  const byArity = new Map<
    number,
    (db: Kysely<CommonTables>, ...p: unknown[]) => Promise<QueryResult<{ bucket: string }>>
  >();
  return (n: number) => {
    let q = byArity.get(n);
    if (!q) {
      q = preparedQuery((db: Kysely<CommonTables>, ...p: unknown[]) => {
        const at = (i: number, k: number) => p[i * 3 + k] as never;
        const limits = sql.join(
          Array.from({ length: n }, (_, i) => sql`when ${at(i, 0)} then ${at(i, 2)}`),
          sql` `,
        );
        return db
          .insertInto('rate_limits')
          .values(Array.from({ length: n }, (_, i) => ({ bucket: at(i, 0), window_start: at(i, 1), hits: 1 })))
          .onConflict((oc) =>
            oc
              .columns(['bucket', 'window_start'])
              .doUpdateSet((eb) => ({ hits: eb('rate_limits.hits', '+', 1) }))
              .where((eb) =>
                eb(
                  eb('rate_limits.hits', '+', 1),
                  '<=',
                  sql<number>`case ${sql.ref('excluded.bucket')} ${limits} else 0 end`,
                ),
              ),
          )
          .returning('bucket');
      });
      byArity.set(n, q);
    }
    return q;
  };
})();

/** Gives back `n` hits of a bucket's window, never below zero: built and compiled once (preparedQuery). */
const giveBackToBucket = preparedQuery((db: Kysely<CommonTables>, bucket: string, windowStart: string, n: number) =>
  db
    .updateTable('rate_limits')
    .set((eb) => ({ hits: eb('hits', '-', n) }))
    .where('bucket', '=', bucket)
    .where('window_start', '=', windowStart)
    .where('hits', '>=', n),
);

/** Gives back one hit of each of some buckets' windows (a bucket and its window start each): once per count. */
const giveBackToBuckets = preparedQueries();
const giveBackToEach =
  (n: number) =>
  (db: Kysely<CommonTables>, ...p: string[]) =>
    db
      .updateTable('rate_limits')
      .set((eb) => ({ hits: eb('hits', '-', 1) }))
      .where((eb) =>
        eb.or(
          Array.from({ length: n }, (_, i) =>
            eb.and([eb('bucket', '=', p[2 * i]!), eb('window_start', '=', p[2 * i + 1]!)]),
          ),
        ),
      )
      .where('hits', '>=', 1);

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
   * request's limits commit with its own change (one durable commit). All
   * the buckets are taken by ONE statement (takeFromBuckets: a multi-row
   * upsert whose update of each row is conditional, `hits + 1 <= limit`, and
   * which returns the rows it took), so concurrent requests can never get
   * more than `limit` through between them, and a request's limits cost one
   * round trip, not one per bucket (issue 30: 10 statements a checkout were
   * these). A refused request counts nowhere (the buckets it took are given
   * back, in one more statement) and the caller refuses with `refusal()`.
   */
  async count(
    trx: Kysely<any>,
    buckets: ReadonlyArray<{ key: string; rule: RateRule }>,
  ): Promise<OverLimit | undefined> {
    if (buckets.length === 0) return undefined;
    const keys = new Set(buckets.map((b) => b.key));
    if (keys.size !== buckets.length || buckets.some((b) => b.rule.limit < 1)) return this.countEach(trx, buckets);
    // In the order of the keys, so concurrent requests lock the rows they share in one order (no deadlock).
    const sorted = [...buckets].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const params = sorted.flatMap((b) => [b.key, this.windowStart(b.rule), b.rule.limit]);
    const takeAll = takeFromBuckets(sorted.length);
    const took = new Set((await takeAll(trx as Kysely<CommonTables>, ...params)).rows.map((r) => r.bucket));
    const over = buckets.find((b) => !took.has(b.key));
    if (!over) return undefined;
    await this.giveBackAll(
      trx,
      sorted.filter((b) => took.has(b.key)),
    );
    return { rule: over.rule, retryAfterSeconds: this.retryAfter(over.rule) };
  }

  /** count() one bucket at a time: for a request that names a bucket twice (one statement cannot take a row twice). */
  private async countEach(
    trx: Kysely<any>,
    buckets: ReadonlyArray<{ key: string; rule: RateRule }>,
  ): Promise<OverLimit | undefined> {
    const taken: Array<{ key: string; rule: RateRule }> = [];
    for (const bucket of buckets) {
      if (!(await this.take(trx, bucket.key, bucket.rule))) {
        await this.giveBackAll(trx, taken);
        return { rule: bucket.rule, retryAfterSeconds: this.retryAfter(bucket.rule) };
      }
      taken.push(bucket);
    }
    return undefined;
  }

  /** Gives back one hit on each of `buckets` (a refused request's), in one statement. */
  private async giveBackAll(trx: Kysely<any>, buckets: ReadonlyArray<{ key: string; rule: RateRule }>): Promise<void> {
    if (buckets.length === 0) return;
    const params = buckets.flatMap((b) => [b.key, this.windowStart(b.rule)]);
    const n = buckets.length;
    await giveBackToBuckets(trx as Kysely<CommonTables>, `give back ${n}`, giveBackToEach(n), ...params);
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
    await giveBackToBucket(trx as Kysely<CommonTables>, key, this.windowStart(rule), n);
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

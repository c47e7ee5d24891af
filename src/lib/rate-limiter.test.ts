import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Kysely } from 'kysely';
import { ManualClock } from './clock.ts';
import type { CommonTables } from './db/common-tables.ts';
import { commonTablesMigration } from './db/migrations/common-tables.ts';
import { migrate } from './db/migrate.ts';
import { openDatabase } from './db/open-database.ts';
import { DomainError } from './errors.ts';
import { RateLimiter } from './rate-limiter.ts';

async function kit() {
  const store = openDatabase<CommonTables>(':memory:');
  await migrate(store.db as Kysely<any>, { '0001': commonTablesMigration });
  const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
  return { limiter: new RateLimiter(store.db, clock), clock, db: store.db, close: () => store.close() };
}

const code = (err: unknown) => (err instanceof DomainError ? err.code : String(err));

describe('rate limits', () => {
  it('refuses the n+1-th hit in a window with RATE_LIMITED and a retry time', async () => {
    const k = await kit();
    const rule = { what: 'codes sent to this phone', limit: 3, windowSeconds: 600 };
    for (let i = 0; i < 3; i++) await k.limiter.hit([{ key: 'p', rule }]);
    await assert.rejects(
      k.limiter.hit([{ key: 'p', rule }]),
      (e) =>
        code(e) === 'RATE_LIMITED' &&
        (e as DomainError).kind === 'rate_limited' &&
        Number((e as DomainError).extra.retryAfterSeconds) === 600,
    );
    await k.limiter.hit([{ key: 'other', rule }]);
    k.clock.advance(600_000);
    await k.limiter.hit([{ key: 'p', rule }]);
    await k.close();
  });

  it('trips the daily SMS budget breaker with its own code and resets it the next day', async () => {
    const k = await kit();
    const budget = {
      what: "Today's SMS budget is used up",
      limit: 2,
      windowSeconds: 86_400,
      code: 'SMS_BUDGET_EXHAUSTED' as const,
    };
    await k.limiter.hit([{ key: 'sms-budget', rule: budget }]);
    await k.limiter.hit([{ key: 'sms-budget', rule: budget }]);
    await assert.rejects(
      k.limiter.hit([{ key: 'sms-budget', rule: budget }]),
      (e) => code(e) === 'SMS_BUDGET_EXHAUSTED',
    );
    k.clock.advance(86_400_000);
    await k.limiter.hit([{ key: 'sms-budget', rule: budget }]);
    await k.close();
  });

  it('lets exactly the limit through when many hits arrive at once, and a refused hit counts nowhere', async () => {
    const k = await kit();
    const rule = { what: 'payer submissions', limit: 7, windowSeconds: 600 };
    const other = { what: 'payer submissions for this TV', limit: 1000, windowSeconds: 600 };
    const results = await Promise.allSettled(
      Array.from({ length: 100 }, () =>
        k.limiter.hit([
          { key: 'tv', rule: other },
          { key: 'p', rule },
        ]),
      ),
    );
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 7);
    const rows = await k.db.selectFrom('rate_limits').selectAll().orderBy('bucket').execute();
    assert.deepEqual(
      rows.map((r) => [r.bucket, r.hits]),
      [
        ['p', 7],
        ['tv', 7],
      ],
      'the refused 93 were given back on the first bucket',
    );
    await k.close();
  });
});

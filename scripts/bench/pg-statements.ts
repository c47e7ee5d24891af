import pg from 'pg';
import { renameSync, writeFileSync } from 'node:fs';

/**
 * Loaded into a tvpay process by the bench (`--import`) for the PostgreSQL figures: counts every
 * statement the process sends to PostgreSQL through `pg` (each one a network round trip: node-postgres
 * sends one query at a time per connection, with no pipelining), by service. Every 200 ms it writes
 * `{ seq, part, statements }` to `TVPAY_BENCH_PG_COUNT_FILE.<pid>`, so the bench can take the difference
 * over a load run. Never part of `npm start`.
 */
const file = process.env.TVPAY_BENCH_PG_COUNT_FILE;
if (!file) throw new Error('pg-statements: TVPAY_BENCH_PG_COUNT_FILE is not set');
/** The part this process runs (`src/main.ts backend`), or `all`. */
const part = process.argv.find((a) => ['backend', 'payserver', 'carrier', 'all'].includes(a)) ?? 'all';

let statements = 0;
const client = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
const query = client.query;
client.query = function (this: unknown, ...args: unknown[]) {
  statements++;
  return query.apply(this, args);
};

let seq = 0;
const out = `${file}.${process.pid}`;
setInterval(() => {
  writeFileSync(`${out}.tmp`, JSON.stringify({ seq: ++seq, part, statements }));
  renameSync(`${out}.tmp`, out);
}, 200).unref();

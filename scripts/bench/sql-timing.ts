import SqliteDatabase from 'better-sqlite3';
import { renameSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';

/**
 * Loaded into a tvpay process by the bench (`--import`) for `checkout-sql`:
 * times every SQLite statement the process runs, by its SQL text, inside
 * better-sqlite3 itself (the statement's own run: SQLite's work and building
 * the row objects, nothing of Kysely or the group commit around it). Every
 * 200 ms it writes what it counted so far to TVPAY_BENCH_SQL_TIMING_FILE as
 * `{ seq, loopMs, statements: { ['service\tsql']: [count, nanoseconds] } }` (the service: its store's
 * file name, `backend`, `payserver`, `carrier`; `loopMs`: the
 * event loop's busy time since the start), so the bench can take the
 * difference over a load run. Never part of `npm start`.
 */
const file = process.env.TVPAY_BENCH_SQL_TIMING_FILE;
/** How often it writes what it counted (a signal would do, but the service's graceful shutdown takes SIGUSR2). */
const DUMP_MS = 200;
if (!file) throw new Error('sql-timing: TVPAY_BENCH_SQL_TIMING_FILE is not set');

/** The service a connection belongs to: its store's file name (`backend.db` → `backend`). */
const serviceOf = (db: { name?: string } | undefined) => basename(db?.name ?? '').replace(/\.db$/, '') || 'other';

const counted = new Map<string, [number, number]>();
/** Counts one run of `sql` on the store of `service`, keyed `service\tsql`. */
function count(service: string, statementSql: string, since: bigint): void {
  const sql = `${service}\t${statementSql}`;
  const ns = Number(process.hrtime.bigint() - since);
  const c = counted.get(sql);
  if (c) {
    c[0]++;
    c[1] += ns;
  } else {
    counted.set(sql, [1, ns]);
  }
}

const probe = new SqliteDatabase(':memory:');
const statement = Object.getPrototypeOf(probe.prepare('select 1')) as Record<string, (...args: unknown[]) => unknown>;
probe.close();
for (const method of ['run', 'get', 'all'] as const) {
  const original = statement[method]!;
  statement[method] = function (this: { source: string; database?: { name?: string } }, ...args: unknown[]) {
    const since = process.hrtime.bigint();
    try {
      return original.apply(this, args);
    } finally {
      count(serviceOf(this.database), this.source, since);
    }
  };
}
// SAVEPOINT, RELEASE, BEGIN and COMMIT (which writes the WAL) go through exec.
const database = SqliteDatabase.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
const exec = database.exec!;
database.exec = function (this: { name?: string }, sql: unknown) {
  const since = process.hrtime.bigint();
  try {
    return exec.call(this, sql);
  } finally {
    count(serviceOf(this), String(sql), since);
  }
};

let seq = 0;
setInterval(() => {
  const at = `${file}.${process.pid}`;
  writeFileSync(
    at,
    JSON.stringify({
      seq: ++seq,
      loopMs: performance.eventLoopUtilization().active,
      statements: Object.fromEntries(counted),
    }),
  );
  renameSync(at, file);
}, DUMP_MS).unref();

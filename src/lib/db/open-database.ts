import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { GroupCommitSqliteDialect, MMAP_BYTES } from './group-commit-sqlite.ts';
import { PreparingClient } from './preparing-client.ts';

export type Dialect = 'sqlite' | 'postgres';

export interface DatabaseHandle<DB> {
  db: Kysely<DB>;
  dialect: Dialect;
  close(): Promise<void>;
  /**
   * Tells `listener` how many units of work each durable commit carried (SQLite's group commit; PostgreSQL commits each
   * alone).
   */
  onCommit(listener: (units: number) => void): void;
}

// PostgreSQL returns BIGINT (int8) and COUNT as strings; amounts stay far below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));

/**
 * WAL, durable commits, waiting for another process's write lock, foreign keys.
 * The group commit's writer then turns `synchronous` to NORMAL, since it syncs
 * the WAL itself; every other connection (a migration tool, a test) keeps FULL.
 */
export function configureSqlite(sqlite: SqliteDatabase.Database): void {
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma(`mmap_size = ${MMAP_BYTES}`);
}

/**
 * Creates the database file owner-only before SQLite opens it (SQLite gives
 * its -wal and -shm files the same mode), and makes existing ones so.
 */
function makePrivateFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
  for (const f of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
}

/** How a PostgreSQL store is reached (a SQLite store ignores them). */
export interface PostgresOptions {
  poolSize?: number;
  /** Told of an error of a connection no request holds (PostgreSQL restarted, a backend ended). */
  onIdleError?: (err: Error) => void;
  /** Each statement text parsed and planned once per connection (preparing-client.ts); on by default. */
  preparedStatements?: boolean;
}

/**
 * Opens a store: a `postgres://` URL selects PostgreSQL (pool of `poolSize`),
 * anything else is a SQLite file path (":memory:" for tests).
 *
 * SQLite runs in WAL mode and a commit is on disk before it is acknowledged,
 * so an acknowledged payment survives a power cut. Its transactions are
 * group-committed (group-commit-sqlite.ts): many requests' writes share one
 * COMMIT, whose WAL is synced off the event loop (wal-sync.ts).
 */
export function openDatabase<DB>(target: string, options: PostgresOptions = {}): DatabaseHandle<DB> {
  const { poolSize = 10, onIdleError, preparedStatements = true } = options;
  if (/^postgres(ql)?:\/\//.test(target)) {
    const pool = new pg.Pool({
      connectionString: target,
      max: poolSize,
      ...(preparedStatements ? { Client: PreparingClient } : {}),
    });
    // An idle connection that PostgreSQL closed (a restart, a terminated backend) must not crash the
    // process: the pool drops it and opens a new one on the next query.
    pool.on('error', (err) => onIdleError?.(err));
    // The pool listens for errors of idle clients only: one PostgreSQL ends while a request holds it (between
    // the statements of a transaction) emitted 'error' with no listener, which killed the process. Each client
    // keeps a listener of its own; the request's next statement fails (503), and the pool drops the client.
    pool.on('connect', (client) => client.on('error', (err) => onIdleError?.(err)));
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
    return { db, dialect: 'postgres', close: () => db.destroy(), onCommit: () => {} };
  }
  if (target !== ':memory:') makePrivateFile(target);
  const listeners: Array<(units: number) => void> = [];
  const db = new Kysely<DB>({
    dialect: new GroupCommitSqliteDialect(target, {
      configure: configureSqlite,
      onCommit: (units) => listeners.forEach((l) => l(units)),
    }),
  });
  return { db, dialect: 'sqlite', close: () => db.destroy(), onCommit: (l) => void listeners.push(l) };
}

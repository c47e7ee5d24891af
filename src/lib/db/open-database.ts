import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { CompiledQuery, Kysely, PostgresDialect, SqliteDialect, type DatabaseConnection, type Driver } from 'kysely';
import pg from 'pg';

export type Dialect = 'sqlite' | 'postgres';

export interface DatabaseHandle<DB> {
  db: Kysely<DB>;
  dialect: Dialect;
  close(): Promise<void>;
}

/**
 * SQLite transactions that take the write lock when they begin (BEGIN
 * IMMEDIATE). Within one process Kysely already runs them one at a time;
 * across processes sharing the file (a second instance, a migration) a
 * transaction then waits for the lock (busy_timeout) instead of failing when
 * it first reads and later wants to write.
 */
class ImmediateSqliteDialect extends SqliteDialect {
  override createDriver(): Driver {
    const driver = super.createDriver();
    driver.beginTransaction = async (connection: DatabaseConnection) => {
      await connection.executeQuery(CompiledQuery.raw('begin immediate'));
    };
    return driver;
  }
}

/**
 * better-sqlite3 with a statement cache: Kysely prepares every query it runs,
 * and preparing (parsing and planning the SQL) was a tenth of a request's CPU.
 * A statement runs synchronously to the end before it can be used again, so
 * one prepared statement per distinct SQL text is safe to reuse.
 */
function withStatementCache(db: SqliteDatabase.Database, max = 1000): SqliteDatabase.Database {
  const cache = new Map<string, SqliteDatabase.Statement>();
  const prepare = db.prepare.bind(db);
  return new Proxy(db, {
    get(target, key, receiver) {
      if (key !== 'prepare') return Reflect.get(target, key, receiver);
      return (sql: string) => {
        let stmt = cache.get(sql);
        if (!stmt) {
          stmt = prepare(sql);
          if (cache.size >= max) cache.delete(cache.keys().next().value!);
          cache.set(sql, stmt);
        }
        return stmt;
      };
    },
  });
}

// PostgreSQL returns BIGINT (int8) and COUNT as strings; amounts stay far below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));

/**
 * Opens a store: a `postgres://` URL selects PostgreSQL (pool of `poolSize`),
 * anything else is a SQLite file path (":memory:" for tests).
 *
 * SQLite runs in WAL mode with `synchronous = FULL`: a commit is on disk
 * before it is acknowledged, so an acknowledged payment survives a power cut.
 */
export function openDatabase<DB>(target: string, poolSize = 10, onIdleError?: (err: Error) => void): DatabaseHandle<DB> {
  if (/^postgres(ql)?:\/\//.test(target)) {
    const pool = new pg.Pool({ connectionString: target, max: poolSize });
    // An idle connection that PostgreSQL closed (a restart, a terminated backend) must not crash the
    // process: the pool drops it and opens a new one on the next query.
    pool.on('error', (err) => onIdleError?.(err));
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
    return { db, dialect: 'postgres', close: () => db.destroy() };
  }
  if (target !== ':memory:') mkdirSync(dirname(target), { recursive: true });
  const sqlite = new SqliteDatabase(target);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  const db = new Kysely<DB>({ dialect: new ImmediateSqliteDialect({ database: withStatementCache(sqlite) }) });
  return { db, dialect: 'sqlite', close: () => db.destroy() };
}

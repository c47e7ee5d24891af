import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, sql, type RawBuilder } from 'kysely';
import { openDatabase, type Dialect } from '../../src/lib/db/open-database.ts';

/** A stopped service's store, for the bench to seed and read: a SQLite file, or a `postgres://` URL. */
export interface BenchStore {
  db: Kysely<any>;
  dialect: Dialect;
  close(): Promise<void>;
}

/**
 * Opens a store by its target as the service does (`TVPAY_*_DATABASE_URL` or the SQLite file). SQLite is
 * opened plainly (no group commit: the service is stopped, or the bench only reads, `readonly`, beside it,
 * a WAL reader never holding up the writer).
 */
export function benchStore(target: string, readonly = false): BenchStore {
  if (/^postgres(ql)?:\/\//.test(target)) {
    const h = openDatabase<any>(target, { poolSize: 2 });
    return { db: h.db, dialect: h.dialect, close: h.close };
  }
  const sqlite = new Database(target, { readonly });
  if (!readonly) sqlite.pragma('journal_mode = WAL');
  const db = new Kysely<any>({ dialect: new SqliteDialect({ database: sqlite }) });
  return { db, dialect: 'sqlite', close: () => db.destroy() };
}

/** The words a copy's column expressions are made of, in the store's own SQL; `i` is the copy's number. */
export interface CopyWords {
  /** `expr` as text, zero-padded to `width` digits. */
  pad(expr: string, width: number): string;
  /** The ISO 8601 UTC text (as tvpay stores times) of `ms`, an SQL expression of milliseconds since 1970. */
  iso(ms: string): string;
}

const WORDS: Record<Dialect, CopyWords> = {
  sqlite: {
    pad: (expr, width) => `printf('%0${width}d', ${expr})`,
    iso: (ms) => `strftime('%Y-%m-%dT%H:%M:%fZ', (${ms}) / 1000.0, 'unixepoch')`,
  },
  postgres: {
    pad: (expr, width) => `lpad((${expr})::text, ${width}, '0')`,
    iso: (ms) => `to_char(to_timestamp((${ms}) / 1000.0) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`,
  },
};

/** The column names of `table`, in the store's order. */
async function columnsOf(store: BenchStore, table: string): Promise<string[]> {
  const found = (await store.db.introspection.getTables()).find(
    (t) => t.name === table && (store.dialect === 'sqlite' || t.schema === 'public'),
  );
  if (!found) throw new Error(`seed: no table ${table}`);
  return found.columns.map((c) => c.name);
}

/**
 * Inserts `n` copies of the first row of `table` that `where` picks, in one statement that the database runs
 * by itself (INSERT … SELECT over the numbers 1..n: a recursive CTE on SQLite, `generate_series` on
 * PostgreSQL), so a million rows take seconds and no row crosses the wire. `overrides(words)` gives the
 * columns that differ from copy to copy, as SQL expressions of `i`; the others are the template's.
 */
export async function copyRows(
  store: BenchStore,
  n: number,
  table: string,
  where: RawBuilder<unknown>,
  overrides: (words: CopyWords) => Record<string, string>,
): Promise<void> {
  const cols = await columnsOf(store, table);
  const set = overrides(WORDS[store.dialect]);
  const exprs = cols.map((c) => set[c] ?? `t."${c}"`);
  const numbers =
    store.dialect === 'postgres'
      ? sql`generate_series(1, ${sql.lit(n)}) AS n(i)`
      : sql`(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${sql.lit(n)}) SELECT i FROM n) n`;
  await sql`INSERT INTO ${sql.table(table)} (${sql.raw(cols.map((c) => `"${c}"`).join(', '))})
    SELECT ${sql.raw(exprs.join(', '))} FROM ${numbers}, (SELECT * FROM ${sql.table(table)} WHERE ${where} LIMIT 1) t`.execute(
    store.db,
  );
}

/** After a large seeding, PostgreSQL's planner statistics (autovacuum may be off, or not have run yet). */
export async function analyze(store: BenchStore, tables: string[]): Promise<void> {
  if (store.dialect === 'postgres') for (const t of tables) await sql`ANALYZE ${sql.table(t)}`.execute(store.db);
}

/** `SELECT count(*)` of `table` where `where` holds. */
export async function countRows(store: BenchStore, table: string, where: RawBuilder<unknown>): Promise<number> {
  const r = await sql<{ n: number | string }>`SELECT count(*) AS n FROM ${sql.table(table)} WHERE ${where}`.execute(
    store.db,
  );
  return Number(r.rows[0]!.n);
}

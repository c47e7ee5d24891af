import { sql, SqliteAdapter, type Kysely, type Migration } from 'kysely';
import type { StoreGauge } from './service-metrics.ts';

/** A table the business gauges count, and the columns they count it by. */
export interface CountedTable {
  table: string;
  columns: readonly string[];
}

/** The SMS log every service keeps, by kind and delivery state (the `tvpay_sms` gauge). */
export const SMS_COUNTED: CountedTable = { table: 'sms_messages', columns: ['kind', 'status'] };

/** Gauge values: one per label set. */
export type Counts = Array<{ labels: Record<string, string>; value: number }>;

const isSqlite = (db: Kysely<any>) => db.getExecutor().adapter instanceof SqliteAdapter;
/** A counter's key: the table and its columns, so a gauge that counts by other columns never reads it. */
const keyOf = (c: CountedTable) => `${c.table}(${c.columns.join(',')})`;
/** The name its three triggers share (…_insert, …_update, …_delete). */
const triggerOf = (c: CountedTable) => `row_counts_${c.table}_${c.columns.join('_')}`;
const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;
const labelsOf = (row: 'NEW' | 'OLD', c: CountedTable) =>
  `json_array(${c.columns.map((col) => `${row}.${col}`).join(', ')})`;

/**
 * Once a store has run it, a migration's list is what its triggers count: a
 * gauge that later counts by other columns needs a new migration (until then
 * it counts the rows, correct but slow).
 *
 * On SQLite, counts of rows by the gauges' columns kept by triggers in the
 * transaction of every insert, update and delete. A Prometheus scrape
 * counted whole tables, on the event loop that answers the TVs (SQLite reads
 * block it): with a million orders in the stores, 0.9 s at the back-end and
 * 1.5 s at the payment server (BENCHMARKS.md); each write now adds one
 * update of a small table. PostgreSQL counts on its own server without
 * holding the loop, and a counter row every writer updated would make
 * every status change wait for the others' commits: nothing changes there.
 * The migration fills the counts from the rows already there, and may run
 * again after a crash part-way through.
 */
export function rowCountsMigration(counted: readonly CountedTable[]): Migration {
  return {
    async up(db) {
      if (!isSqlite(db)) return;
      await sql`CREATE TABLE IF NOT EXISTS row_counts \
(key TEXT NOT NULL, labels TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (key, labels)) WITHOUT ROWID`.execute(db);
      for (const c of counted) {
        for (const name of [c.table, ...c.columns])
          if (!IDENTIFIER.test(name)) throw new Error(`not a plain identifier: ${name}`);
        const key = keyOf(c).replace(/'/g, "''");
        const add =
          `INSERT INTO row_counts (key, labels, n) VALUES ('${key}', ${labelsOf('NEW', c)}, 1) ` +
          `ON CONFLICT (key, labels) DO UPDATE SET n = n + 1;`;
        const remove = `UPDATE row_counts SET n = n - 1 WHERE key = '${key}' AND labels = ${labelsOf('OLD', c)};`;
        // A move is one statement of two rows, not a remove and an add (a quarter less of the trigger's cost, measured
        // alone).
        const move =
          `INSERT INTO row_counts (key, labels, n) VALUES ('${key}', ${labelsOf('OLD', c)}, -1), ` +
          `('${key}', ${labelsOf('NEW', c)}, 1) ON CONFLICT (key, labels) DO UPDATE SET n = n + excluded.n;`;
        const changed = c.columns.map((col) => `OLD.${col} IS NOT NEW.${col}`).join(' OR ');
        const trigger = triggerOf(c);
        await sql.raw(`DELETE FROM row_counts WHERE key = '${key}'`).execute(db);
        await sql
          .raw(
            `INSERT INTO row_counts (key, labels, n) SELECT '${key}', json_array(${c.columns.join(', ')}), count(*) ` +
              `FROM ${c.table} GROUP BY ${c.columns.join(', ')}`,
          )
          .execute(db);
        await sql
          .raw(`CREATE TRIGGER IF NOT EXISTS ${trigger}_insert AFTER INSERT ON ${c.table} BEGIN ${add} END`)
          .execute(db);
        await sql
          .raw(
            `CREATE TRIGGER IF NOT EXISTS ${trigger}_update AFTER UPDATE OF ${c.columns.join(', ')} ON ${c.table} ` +
              `WHEN ${changed} BEGIN ${move} END`,
          )
          .execute(db);
        await sql
          .raw(`CREATE TRIGGER IF NOT EXISTS ${trigger}_delete AFTER DELETE ON ${c.table} BEGIN ${remove} END`)
          .execute(db);
      }
    },
  };
}

/**
 * Counts of a table's rows grouped by some columns, as gauge values: on
 * SQLite from the counts the triggers keep (rowCountsMigration), if that
 * table is counted by those columns; else by counting the rows.
 */
export async function countsBy(db: Kysely<any>, counted: CountedTable): Promise<Counts> {
  const { table, columns } = counted;
  const insertTrigger = `${triggerOf(counted)}_insert`;
  if (
    isSqlite(db) &&
    (await sql`SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = ${insertTrigger}`.execute(db)).rows
      .length > 0
  ) {
    const kept = await sql<{
      labels: string;
      n: number;
    }>`SELECT labels, n FROM row_counts WHERE key = ${keyOf(counted)} AND n > 0`.execute(db);
    return kept.rows.map((r) => {
      const values = JSON.parse(r.labels) as unknown[];
      return {
        labels: Object.fromEntries(columns.map((c, i) => [c, String(values[i] ?? 'none')])),
        value: Number(r.n),
      };
    });
  }
  const rows = (await db
    .selectFrom(table)
    .select([...columns, (eb: any) => eb.fn.countAll().as('n')])
    .groupBy([...columns])
    .execute()) as Array<Record<string, unknown>>;
  return rows.map((r) => ({
    labels: Object.fromEntries(columns.map((c) => [c, String(r[c] ?? 'none')])),
    value: Number(r.n),
  }));
}

/** A business gauge of a table's rows by the columns it is counted by, each column a label of the same name. */
export function countedGauge(db: Kysely<any>, counted: CountedTable, name: string, help: string): StoreGauge {
  return { name, help, labelNames: counted.columns, read: () => countsBy(db, counted) };
}

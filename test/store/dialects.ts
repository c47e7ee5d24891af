import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Migration } from 'kysely';
import { migrate } from '../../src/lib/db/migrate.ts';
import { openDatabase, type DatabaseHandle } from '../../src/lib/db/open-database.ts';
import { freshPgDatabase, pgSkip } from '../support/pg.ts';

export const DIALECTS = ['sqlite', 'postgres'] as const;
export type DialectName = (typeof DIALECTS)[number];

/** Whether to skip a dialect here (PostgreSQL missing and not required), said loudly. */
export async function skipFor(dialect: DialectName): Promise<string | false> {
  return dialect === 'postgres' ? pgSkip() : false;
}

/** A fresh, migrated store of the dialect: a SQLite file in a temp dir, or a new PostgreSQL database. */
/**
 * With `t`, the store is disposed when that test ends, passed or failed (a failing test must not leak its
 * PostgreSQL database); `dispose()` may still be called, once or more.
 */
export async function freshStore<DB>(
  dialect: DialectName,
  migrations: Record<string, Migration>,
  poolSize = 10,
  t?: { after(fn: () => Promise<void>): void },
): Promise<DatabaseHandle<DB> & { url: string; dispose(): Promise<void> }> {
  let url: string;
  let cleanup: () => Promise<void>;
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'tvpay-store-'));
    url = join(dir, 'store.db');
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    const pg = await freshPgDatabase();
    url = pg.url;
    cleanup = pg.drop;
  }
  const handle = openDatabase<DB>(url, { poolSize });
  await migrate(handle.db, migrations);
  let disposed: Promise<void> | undefined;
  const dispose = () =>
    (disposed ??= (async () => {
      await handle.close();
      await cleanup();
    })());
  t?.after(dispose);
  return { ...handle, url, dispose };
}

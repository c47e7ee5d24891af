import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { systemClock } from '../../src/lib/clock.ts';
import { inTransaction } from '../../src/lib/db/in-transaction.ts';
import { migrate } from '../../src/lib/db/migrate.ts';
import { openDatabase } from '../../src/lib/db/open-database.ts';
import { cryptoRandom } from '../../src/lib/ids.ts';
import { Ledger } from '../../src/payserver/ledger/ledger.ts';
import type { PayserverTables } from '../../src/payserver/schema.ts';
import { payserverMigrations } from '../../src/payserver/migrations/index.ts';

/**
 * The durable-commit ceiling: raw better-sqlite3 transactions of two updates
 * and two inserts, in WAL mode with synchronous=FULL as tvpay ships.
 */
export function limitCommit(seconds: number): number {
  const dir = mkdtempSync(join(tmpdir(), 'tvpay-bench-commit-'));
  const db = new SqliteDatabase(join(dir, 'c.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(
    'create table acct (id integer primary key, balance integer not null, held integer not null); create table entry (id integer primary key autoincrement, acct integer, amount integer, at text)',
  );
  db.exec('insert into acct values (1, 1000000000, 0), (2, 0, 0)');
  const upd = db.prepare('update acct set balance = balance + ?, held = held + ? where id = ?');
  const ins = db.prepare('insert into entry (acct, amount, at) values (?, ?, ?)');
  const tx = db.transaction(() => {
    upd.run(-1, 0, 1);
    upd.run(1, 0, 2);
    ins.run(1, -1, 'now');
    ins.run(2, 1, 'now');
  });
  let n = 0;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    tx();
    n++;
  }
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return n / seconds;
}

/**
 * Hold + capture pairs through tvpay's own ledger code (two transactions each,
 * as in the flow), by `payers` wallets at once, as a payment server sees them:
 * with one payer each transaction waits for its own durable commit; with many,
 * their transactions share commits (group commit).
 */
export async function ledgerPairs(seconds: number, payers = 1, database?: string): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'tvpay-bench-ledger-'));
  // A PostgreSQL URL measures the same code on PostgreSQL (a pool of up to 32 connections).
  const store = openDatabase<PayserverTables>(database ?? join(dir, 'l.db'), {
    poolSize: database ? Math.min(payers, 32) : undefined,
  });
  await migrate(store.db, payserverMigrations);
  const ledger = new Ledger(cryptoRandom, systemClock);
  const wallets: string[] = [];
  for (let i = 0; i < payers; i++) {
    await store.db
      .insertInto('accounts')
      .values({
        id: `acc_${i}`,
        phone: `+86139${String(i).padStart(8, '0')}`,
        currency: 'CNY',
        quick_pay: 1,
        created_at: new Date().toISOString(),
      })
      .execute();
    const wallet = await ledger.openAccount(store.db, { accountId: `acc_${i}`, kind: 'wallet', currency: 'CNY' });
    await ledger.credit(store.db, wallet, 1_000_000_000, `bench_${i}`);
    wallets.push(wallet);
  }
  let n = 0;
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    wallets.map(async (wallet) => {
      while (performance.now() < end) {
        const hold = await inTransaction(store.db, (trx) => ledger.reserve(trx, wallet, 1, `pay_${wallet}_${n}`));
        await inTransaction(store.db, (trx) => ledger.capture(trx, hold!));
        n++;
      }
    }),
  );
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return n / seconds;
}

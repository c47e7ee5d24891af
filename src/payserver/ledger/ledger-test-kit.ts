import { ManualClock } from '../../lib/clock.ts';
import { migrate } from '../../lib/db/migrate.ts';
import { openDatabase } from '../../lib/db/open-database.ts';
import { cryptoRandom } from '../../lib/ids.ts';
import type { PayserverDb, PayserverTables } from '../schema.ts';
import { payserverMigrations } from '../migrations/index.ts';
import { Ledger } from './ledger.ts';

/** A ledger on a fresh in-memory SQLite store, for tests. */
export async function ledgerKit() {
  const store = openDatabase<PayserverTables>(':memory:');
  await migrate(store.db, payserverMigrations);
  return { db: store.db, ...(await ledgerOn(store.db)), close: () => store.close() };
}

/**
 * A ledger on a migrated payment-server store (either dialect), with the one payer account (acc_1) whose
 * ledger accounts the tests open, for tests.
 */
export async function ledgerOn(db: PayserverDb) {
  const clock = new ManualClock();
  const ledger = new Ledger(cryptoRandom, clock);
  await db
    .insertInto('accounts')
    .values({
      id: 'acc_1',
      phone: '+8613800138000',
      currency: 'CNY',
      quick_pay: 1,
      created_at: clock.now().toISOString(),
    })
    .execute();
  const open = (kind: 'wallet' | 'card') => ledger.openAccount(db, { accountId: 'acc_1', kind, currency: 'CNY' });
  const balances = async () => {
    const rows = await db.selectFrom('ledger_accounts').selectAll().execute();
    return Object.fromEntries(
      rows.map((r) => [r.id, { kind: r.kind, balance: Number(r.balance_minor), held: Number(r.held_minor) }]),
    );
  };
  const postingsSum = async () => {
    const rows = await db.selectFrom('postings').select('amount_minor').execute();
    return rows.reduce((s, r) => s + Number(r.amount_minor), 0);
  };
  return { ledger, clock, open, balances, postingsSum };
}

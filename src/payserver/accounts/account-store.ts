import type { PayserverDb, PayserverTables } from '../schema.ts';

export type AccountRow = PayserverTables['accounts'];
export type LedgerAccountRow = PayserverTables['ledger_accounts'];

/**
 * Reads and writes of the `accounts` table and the owners' view of their
 * ledger accounts (the wallet and the card). Balances themselves change only
 * through the ledger (`ledger.ts`).
 */
export const accountStore = {
  async insert(trx: PayserverDb, row: AccountRow): Promise<void> {
    await trx.insertInto('accounts').values(row).execute();
  },

  async byId(db: PayserverDb, id: string): Promise<AccountRow | undefined> {
    return db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
  },

  async byPhone(db: PayserverDb, phone: string): Promise<AccountRow | undefined> {
    return db.selectFrom('accounts').selectAll().where('phone', '=', phone).executeTakeFirst();
  },

  /** The holder agreed to quick pay (SMS-confirmed payments to this merchant), now: it pays if it is the newest. */
  async agreeQuickPay(trx: PayserverDb, id: string, now: string): Promise<void> {
    await trx.updateTable('accounts').set({ quick_pay: 1, quick_pay_at: now }).where('id', '=', id).execute();
  },

  /** The account's wallet and card. */
  async sources(db: PayserverDb, accountId: string): Promise<LedgerAccountRow[]> {
    return db.selectFrom('ledger_accounts').selectAll().where('account_id', '=', accountId).execute();
  },

  async source(db: PayserverDb, accountId: string, kind: 'wallet' | 'card'): Promise<LedgerAccountRow | undefined> {
    return db
      .selectFrom('ledger_accounts')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('kind', '=', kind)
      .executeTakeFirst();
  },
};

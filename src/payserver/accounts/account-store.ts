import { insertRow, moveRow, rowsWhere, rowWhere } from '../../lib/db/rows.ts';
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
    await insertRow(trx, 'accounts', row);
  },

  async byId(db: PayserverDb, id: string): Promise<AccountRow | undefined> {
    return rowWhere(db, 'accounts', { id });
  },

  async byPhone(db: PayserverDb, phone: string): Promise<AccountRow | undefined> {
    return rowWhere(db, 'accounts', { phone });
  },

  /** The holder agreed to quick pay (SMS-confirmed payments to this merchant), now: it pays if it is the newest. */
  async agreeQuickPay(trx: PayserverDb, id: string, now: string): Promise<void> {
    await moveRow(trx, 'accounts', { id }, { quick_pay: 1, quick_pay_at: now });
  },

  /** The account's wallet and card. */
  async sources(db: PayserverDb, accountId: string): Promise<LedgerAccountRow[]> {
    return rowsWhere(db, 'ledger_accounts', { account_id: accountId });
  },

  async source(db: PayserverDb, accountId: string, kind: 'wallet' | 'card'): Promise<LedgerAccountRow | undefined> {
    return rowWhere(db, 'ledger_accounts', { account_id: accountId, kind });
  },
};

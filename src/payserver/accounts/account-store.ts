import { moveRow, rowsWhere, rowWhere, tableRows } from '../../lib/db/rows.ts';
import type { PayserverDb, PayserverTables } from '../schema.ts';

export type AccountRow = PayserverTables['accounts'];
export type LedgerAccountRow = PayserverTables['ledger_accounts'];

const accounts = tableRows('accounts', 'id');

/**
 * Reads and writes of the `accounts` table and the owners' view of their
 * ledger accounts (the wallet and the card). Balances themselves change only
 * through the ledger (`ledger.ts`).
 */
export const accountStore = {
  insert: accounts.insert,
  byId: accounts.byKey,
  /** The account of a phone number (at most one: the phone is unique). */
  byPhone: accounts.oneBy('phone'),

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

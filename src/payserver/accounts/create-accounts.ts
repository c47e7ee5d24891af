import { serviceBasics, type Offers, type PayserverCore } from '../feature.ts';
import { accountEntries } from '../ledger/account-entries.ts';
import { auditLedger } from '../ledger/ledger-audit.ts';
import type { Ledger } from '../ledger/ledger.ts';
import { accountsRoutes } from './accounts-routes.ts';
import { AccountsService, type Payers } from './accounts-service.ts';

/** Accounts with a wallet and a linked card, and the operators' routes to open, credit, read and audit them. */
export function createAccounts(
  core: Pick<PayserverCore, 'db' | 'work' | 'random' | 'clock' | 'config'>,
  deps: { ledger: Ledger; payers: Payers },
) {
  const { db } = core;
  const service = new AccountsService({
    ...serviceBasics(core),
    ...deps,
    regions: core.config.phoneRegions,
  });
  return {
    service,
    admin: (scope) =>
      accountsRoutes(
        scope,
        service,
        () => auditLedger(db),
        (accountId) => accountEntries(db, accountId),
      ),
  } satisfies Offers;
}

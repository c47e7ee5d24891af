import { serviceBasics, type Offers, type PayserverCore } from '../feature.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { Settlement } from '../settlement/settlement.ts';
import { RenewalsService, type RenewalsServiceDeps } from './renewals-service.ts';

/** Renewal charges of a subscription, which the back-end asks for on its renewal day. */
export function createRenewals(
  core: Pick<PayserverCore, 'db' | 'random' | 'clock' | 'work' | 'config'>,
  deps: { ledger: Ledger; settlement: Settlement } & Pick<RenewalsServiceDeps, 'payers' | 'railCharges'>,
) {
  const service = new RenewalsService({
    ...serviceBasics(core),
    ...deps,
    options: { regions: core.config.phoneRegions },
  });
  return { service } satisfies Offers;
}

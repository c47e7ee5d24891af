import type { Offers, PayserverCore } from '../feature.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { Settlement } from '../payments/settlement.ts';
import { RenewalsService, type RenewalsServiceDeps } from './renewals-service.ts';

/** Renewal charges of a subscription, which the back-end asks for on its renewal day. */
export function createRenewals(
  core: Pick<PayserverCore, 'db' | 'random' | 'clock' | 'kick' | 'config'>,
  deps: { ledger: Ledger; settlement: Settlement } & Pick<RenewalsServiceDeps, 'payers' | 'railCharges'>,
) {
  const service = new RenewalsService({
    ...deps,
    db: core.db,
    random: core.random,
    clock: core.clock,
    kick: core.kick,
    options: { regions: core.config.phoneRegions },
  });
  return { service } satisfies Offers;
}

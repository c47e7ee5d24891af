import type { Offers, PayserverCore } from '../feature.ts';
import type { RailRegistry } from '../rails/registry.ts';
import { reconciliationRoutes } from './reconciliation-routes.ts';
import { RailReconciliation, type RailReconciliationDeps } from './reconciliation.ts';

/** Each rail's bill of a day held against tvpay's records, for the operators. */
export function createReconciliation(
  core: Pick<PayserverCore, 'db' | 'clock'>,
  deps: { rails: RailRegistry; payments: RailReconciliationDeps['payments'] },
) {
  const service = new RailReconciliation({ db: core.db, clock: core.clock, ...deps });
  return { admin: (scope) => reconciliationRoutes(scope, service) } satisfies Offers;
}

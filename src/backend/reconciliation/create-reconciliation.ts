import type { BackendCore, Offers } from '../core/feature.ts';
import type { PaymentEvents } from '../payments/payment-events.ts';
import { adminReconciliationRoutes } from './reconciliation-routes.ts';
import { ReconciliationService } from './reconciliation-service.ts';

/** Reconciliation: each business day's orders against the payment server's statement, run by the sweeper. */
export function createReconciliation(
  core: Pick<BackendCore, 'db' | 'provider' | 'random' | 'clock' | 'config' | 'log'>,
  deps: { payments: PaymentEvents },
) {
  const service = new ReconciliationService({
    db: core.db,
    provider: core.provider,
    payments: deps.payments,
    random: core.random,
    clock: core.clock,
    timeZone: core.config.businessTimeZone,
    log: core.log.child({ part: 'reconciliation' }),
  });
  return {
    service,
    admin: (scope) => adminReconciliationRoutes(scope, service),
    sweep: () => service.sweep(),
  } satisfies Offers;
}

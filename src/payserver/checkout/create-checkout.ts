import type { SmsBudget } from '../../sms/sms-budget.ts';
import { codeSendRules } from '../confirmations/code-send-limits.ts';
import { serviceBasics, type Offers, type PayserverCore } from '../feature.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { Settlement } from '../settlement/settlement.ts';
import type { CheckoutRails } from '../rail-payments/checkout-rails.ts';
import { checkoutRoutes } from './checkout-routes.ts';
import { CheckoutService } from './checkout-service.ts';

/** The phone's checkout page at the order's payUrl: possession code, wallet or card, quick pay, the rails' forms. */
export function createCheckout(
  core: Pick<PayserverCore, 'db' | 'limiter' | 'random' | 'clock' | 'work' | 'config' | 'secrets' | 'deliverNow'>,
  deps: { ledger: Ledger; settlement: Settlement; budget: SmsBudget; rails: CheckoutRails | undefined },
) {
  const { config } = core;
  const service = new CheckoutService({
    ...serviceBasics(core, 'limiter', 'deliverNow'),
    ledger: deps.ledger,
    settlement: deps.settlement,
    budget: deps.budget,
    options: {
      codeKey: core.secrets.codeKey,
      maxWrongCodes: config.maxWrongCodes,
      ...codeSendRules(config.limits),
      smsFrom: config.sms.payserverFrom,
      locale: config.sms.locale,
    },
  });
  const options = { timeZone: config.businessTimeZone, ...(deps.rails ? { rails: deps.rails } : {}) };
  return { service, pages: (scope) => checkoutRoutes(scope, service, options) } satisfies Offers;
}

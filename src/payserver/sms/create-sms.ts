import { handler } from '../../lib/outbox/outbox.ts';
import { smsAdminRoutes, smsBudgetRoute } from '../../sms/sms-admin-routes.ts';
import { SmsBudget, smsBudgetRule } from '../../sms/sms-budget.ts';
import { TEXT_SMS_TOPIC, textSender } from '../../sms/text-sms.ts';
import type { Offers, PayserverCore } from '../feature.ts';

/**
 * The payment server's SMS as a whole: the daily budget every SMS it sends is taken from, the operators'
 * view of the SMS log and of the budget, and the plain texts (a reply's answer) the outbox sends.
 */
export function createSms(core: Pick<PayserverCore, 'db' | 'shared' | 'gateway' | 'clock' | 'limiter' | 'config'>) {
  const { config, limiter } = core;
  const rule = smsBudgetRule(config.limits.smsDailyBudget);
  return {
    budget: new SmsBudget(limiter, rule),
    admin: (scope) => {
      smsAdminRoutes(scope, core.shared, config.phoneRegions);
      smsBudgetRoute(scope, limiter, rule);
    },
    handlers: [handler(TEXT_SMS_TOPIC, textSender(core.db, core.gateway, core.clock, config.sms.payserverFrom))],
  } satisfies Offers;
}

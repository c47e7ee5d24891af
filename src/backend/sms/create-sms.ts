import { smsGatewayRoutes } from '../../sms/gateway-routes.ts';
import { SMS_BUDGET_BUCKET, smsAdminRoutes, smsBudgetRoute } from '../../sms/sms-admin-routes.ts';
import { smsBudgetRule } from '../../sms/sms-budget.ts';
import { smsLog } from '../../sms/sms-log.ts';
import { handler } from '../../lib/outbox/outbox.ts';
import { TEXT_SMS_TOPIC, textSender } from '../../sms/text-sms.ts';
import type { BackendCore, Offers } from '../core/feature.ts';

/**
 * The back-end's SMS: the texts it queues, the gateway's inbound messages and receipts, the SMS log and
 * the day's budget as operators see them.
 */
export function createSms(
  core: Pick<BackendCore, 'db' | 'shared' | 'gateway' | 'clock' | 'config' | 'secrets' | 'limiter' | 'count'>,
) {
  const { shared, clock, config, limiter, count } = core;
  const budget = smsBudgetRule(config.limits.smsDailyBudget);
  return {
    /** Delivery receipts from an SMS link (SMPP) for the SMS this service sent. */
    receipts: {
      receipt: async (gatewayId: string, status: 'delivered' | 'failed') => {
        const smsId = await smsLog.byGatewayIdSoon(shared, gatewayId);
        if (smsId) await smsLog.report(shared, smsId, status, clock.now(), count);
      },
    },
    admin: (scope) => {
      smsAdminRoutes(scope, shared, config.phoneRegions);
      smsBudgetRoute(scope, limiter, budget);
    },
    open: (app) => smsGatewayRoutes(app, { db: shared, inboundToken: core.secrets.smsInboundToken, clock, count }),
    // Subscription SMS come from the payment server's number, where the payer's TD reply goes.
    handlers: [handler(TEXT_SMS_TOPIC, textSender(core.db, core.gateway, clock, config.sms.payserverFrom))],
    gauges: [
      {
        name: 'tvpay_sms_budget',
        help: "The day's SMS budget: used and limit.",
        labelNames: ['what'],
        read: async () => {
          const u = await limiter.usage(SMS_BUDGET_BUCKET, budget);
          return [
            { labels: { what: 'used' }, value: u.hits },
            { labels: { what: 'limit' }, value: config.limits.smsDailyBudget },
          ];
        },
      },
    ],
  } satisfies Offers;
}

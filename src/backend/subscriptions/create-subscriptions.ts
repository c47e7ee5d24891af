import { countedGauge } from '../../lib/metrics/row-counts.ts';
import { handler } from '../../lib/outbox/outbox.ts';
import type { ProductsService } from '../catalogue/products.ts';
import { serviceBasics, type BackendCore, type Offers } from '../core/feature.ts';
import { BACKEND_COUNTED } from '../schema.ts';
import type { WebhooksService } from '../webhooks/webhooks-service.ts';
import { adminSubscriptionRoutes, cancelByPhoneRoute, tvSubscriptionRoutes } from './subscriptions-routes.ts';
import { RENEWAL_TOPIC, SubscriptionsService } from './subscriptions-service.ts';

/**
 * Subscriptions: renewals charged at the payment server on their day (in a lane of their own), the notice
 * before, and a phone's TD reply that cancels them. A renewal is charged at the catalogue's current terms.
 */
export function createSubscriptions(
  core: Pick<BackendCore, 'db' | 'provider' | 'random' | 'clock' | 'work' | 'log' | 'config'>,
  deps: { webhooks: WebhooksService; catalogue: Pick<ProductsService, 'terms'> },
) {
  const { config } = core;
  const service = new SubscriptionsService({
    ...serviceBasics(core, 'provider', 'log'),
    webhooks: deps.webhooks,
    options: {
      noticeDays: config.renewalNoticeDays,
      locale: config.sms.locale,
      smsFrom: config.sms.payserverFrom,
      payee: config.merchantName,
      timeZone: config.businessTimeZone,
    },
    currentTerms: (productId) => deps.catalogue.terms(productId),
  });
  return {
    service,
    admin: (scope) => adminSubscriptionRoutes(scope, service, config.phoneRegions),
    tv: (scope) => tvSubscriptionRoutes(scope, service),
    internal: (app, signed) => cancelByPhoneRoute(app, service, config.phoneRegions, signed),
    handlers: [handler(RENEWAL_TOPIC, (p) => service.requestCharge(p))],
    sweep: () => service.runDue(),
    gauges: [countedGauge(core.db, BACKEND_COUNTED.subscriptions, 'tvpay_subscriptions', 'Subscriptions by status.')],
  } satisfies Offers;
}

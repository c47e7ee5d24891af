import { countedGauge } from '../../lib/metrics/row-counts.ts';
import { handler } from '../../lib/outbox/outbox.ts';
import type { BackendCore, Offers } from '../core/feature.ts';
import { BACKEND_COUNTED } from '../schema.ts';
import type { SubscriptionsService } from '../subscriptions/subscriptions-service.ts';
import type { WebhooksService } from '../webhooks/webhooks-service.ts';
import { adminRefundRoutes } from './refunds-routes.ts';
import { REFUND_TOPIC, RefundsService } from './refunds-service.ts';

/** Refunds: an operator's (or the provisioning's) refund of a paid order, asked of the provider through the outbox. */
export function createRefunds(
  core: Pick<BackendCore, 'db' | 'provider' | 'events' | 'random' | 'clock' | 'work'>,
  deps: { webhooks: WebhooksService; subscriptions: Pick<SubscriptionsService, 'refundedIn'> },
) {
  const { db, provider, events, random, clock, work } = core;
  const service = new RefundsService({ db, provider, events, random, clock, work, ...deps });
  return {
    service,
    admin: (scope) => adminRefundRoutes(scope, service),
    handlers: [handler(REFUND_TOPIC, (p) => service.request(p))],
    gauges: [countedGauge(db, BACKEND_COUNTED.refunds, 'tvpay_refunds', 'Refunds by status and who started them.')],
  } satisfies Offers;
}

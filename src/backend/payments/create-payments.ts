import { handler } from '../../lib/outbox/outbox.ts';
import { serviceBasics, type BackendCore, type Offers } from '../core/feature.ts';
import type { OrderEnding } from '../orders/order-ending.ts';
import { CLOSE_TOPIC } from '../orders/order-ending.ts';
import { END_ATTEMPT_TOPIC, START_TOPIC } from '../orders/orders-service.ts';
import type { RefundsService } from '../refunds/refunds-service.ts';
import type { SubscriptionsService } from '../subscriptions/subscriptions-service.ts';
import { fulfilmentOf } from '../webhooks/create-webhooks.ts';
import type { WebhooksService } from '../webhooks/webhooks-service.ts';
import { LINK_SMS_TOPIC, PaymentAttempts } from './payment-attempts.ts';
import { FULFIL_TOPIC, PaymentEvents } from './payment-events.ts';
import { paymentEventRoutes } from './payment-events-routes.ts';

/**
 * Payment attempts: the payer branch run through the outbox (bound → pre-pay, not bound → the link SMS),
 * an attempt ended, and a checkout closed at the payment server when its order ends.
 */
export function createAttempts(
  core: Pick<
    BackendCore,
    'db' | 'work' | 'provider' | 'linkTokens' | 'gateway' | 'events' | 'random' | 'clock' | 'log' | 'config'
  >,
  deps: { ending: OrderEnding },
) {
  const { config } = core;
  const attempts = new PaymentAttempts({
    ...serviceBasics(core, 'provider', 'linkTokens', 'gateway', 'events', 'log'),
    ending: deps.ending,
    options: {
      payee: config.merchantName,
      locale: config.sms.locale,
      smsFrom: config.sms.backendFrom,
      maxWrongCodes: config.maxWrongCodes,
    },
  });
  return {
    service: attempts,
    handlers: [
      handler(START_TOPIC, async (p) => void (await attempts.run(p))),
      handler(LINK_SMS_TOPIC, (p) => attempts.sendLink(p)),
      handler(CLOSE_TOPIC, (p) => attempts.close(p)),
      handler(END_ATTEMPT_TOPIC, (p) => attempts.endAttempt(p)),
    ],
  } satisfies Offers;
}

/**
 * Payment events: the payment server's signed outcomes applied once (the order paid or the payment
 * refused and refunded), and the provisioning that follows a paid order.
 */
export function createPaymentEvents(
  core: Pick<BackendCore, 'db' | 'events' | 'random' | 'clock' | 'work' | 'log' | 'config' | 'count'>,
  deps: {
    ending: OrderEnding;
    refunds: RefundsService;
    webhooks: WebhooksService;
    subscriptions: SubscriptionsService;
  },
) {
  const service = new PaymentEvents({
    ...serviceBasics(core, 'events', 'log', 'count'),
    ...deps,
    fulfilment: fulfilmentOf(core.config),
  });
  return {
    service,
    internal: (app, signed) => paymentEventRoutes(app, service, signed),
    handlers: [handler(FULFIL_TOPIC, (p) => service.fulfil(p))],
  } satisfies Offers;
}

import { countedGauge } from '../../lib/metrics/row-counts.ts';
import type { RateRule } from '../../lib/rate-limiter.ts';
import { smsBudgetRule } from '../../sms/sms-budget.ts';
import type { ProductsService } from '../catalogue/products.ts';
import { serviceBasics, type BackendCore, type Offers } from '../core/feature.ts';
import { BACKEND_COUNTED, type BackendDb } from '../schema.ts';
import type { WebhooksService } from '../webhooks/webhooks-service.ts';
import { OrderEnding } from './order-ending.ts';
import type { OrderRow } from './order-store.ts';
import { adminOrderSmsRoute } from './order-sms.ts';
import { adminStatsRoutes } from './order-stats.ts';
import { traceOrder } from './order-trace.ts';
import { adminOrderRoutes, tvOrderRoutes } from './orders-routes.ts';
import { OrdersService, type OrdersOptions } from './orders-service.ts';
import { StreamRegistry } from './stream-registry.ts';

/**
 * What ending an order needs of the subscriptions (their `orderEndedIn`): declared here, so that orders,
 * which the subscriptions build on, import nothing of them.
 */
interface EndedOrderListener {
  orderEndedIn(trx: BackendDb, orderId: string, now: Date): Promise<void>;
}

/**
 * What a payer's submission needs of the payment attempts (their `runFrom`): declared here, so that
 * orders, which the payments build on, import nothing of them.
 */
interface AttemptRunner {
  runFrom(order: OrderRow): Promise<{ order?: OrderRow }>;
}

/**
 * How an order ends (paid, failed, expired, cancelled), once, with its webhook; an ended renewal order
 * tells its subscription in the same transaction.
 */
export function createOrderEnding(
  core: Pick<BackendCore, 'db' | 'events' | 'random' | 'clock' | 'work'>,
  deps: { webhooks: WebhooksService; subscriptions: EndedOrderListener },
) {
  const { subscriptions } = deps;
  return new OrderEnding({
    ...serviceBasics(core, 'events'),
    webhooks: deps.webhooks,
    onEndedIn: (trx, orderId, now) => subscriptions.orderEndedIn(trx, orderId, now),
  });
}

/** The limits on payer submissions and orders, each counted over the configured window. */
function orderLimits(config: BackendCore['config']): Omit<OrdersOptions, 'orderTtlSeconds' | 'regions'> {
  const { limits } = config;
  const rule = (what: string, limit: number): RateRule => ({ what, limit, windowSeconds: limits.windowSeconds });
  return {
    payerPerPhone: rule('payer submissions for this phone', limits.payerPerPhone),
    payerPerDevice: rule('payer submissions from this TV', limits.payerPerDevice),
    payerPerAccount: rule('payer submissions for this subscriber', limits.payerPerAccount),
    payerPerPrefix: rule('payer submissions for numbers like this one', limits.payerPerPrefix),
    smsDailyBudget: smsBudgetRule(limits.smsDailyBudget),
    ordersPerDevice: rule('orders from this TV', limits.ordersPerDevice),
  };
}

type OrdersCore = Pick<
  BackendCore,
  'db' | 'limiter' | 'events' | 'random' | 'clock' | 'work' | 'config' | 'log' | 'provider' | 'checkoutUrl'
>;

/**
 * Orders: a TV's orders and their event streams, the payer branch (each submission starts a payment
 * attempt), expiry by the sweeper, and the operators' views (list, timeline, stats, an order's SMS).
 */
export function createOrders(
  core: OrdersCore,
  deps: { catalogue: ProductsService; ending: OrderEnding; attempts: AttemptRunner },
) {
  const { db, config, log, provider, checkoutUrl } = core;
  const { attempts } = deps;
  const { limiter, events, random, clock, work } = core;
  const service = new OrdersService({
    db,
    limiter,
    events,
    random,
    clock,
    work,
    products: deps.catalogue,
    ending: deps.ending,
    options: { orderTtlSeconds: config.orderTtlSeconds, regions: config.phoneRegions, ...orderLimits(config) },
    runAttempt: (order) => attempts.runFrom(order),
    onBudgetExhausted: () =>
      log.error(
        { budget: config.limits.smsDailyBudget },
        "the day's SMS budget is used up: new SMS payments are refused until the window resets",
      ),
  });
  const streams = new StreamRegistry({
    perDevice: config.limits.streamsPerDevice,
    perOrder: config.limits.streamsPerOrder,
  });
  return {
    service,
    admin: (scope) => {
      adminOrderRoutes(scope, service, checkoutUrl, (orderId) => traceOrder(db, provider, orderId, log));
      adminStatsRoutes(scope, db, clock, config.businessTimeZone);
      adminOrderSmsRoute(scope, db, provider, log, config.phoneRegions);
    },
    tv: (scope) => tvOrderRoutes(scope, service, events, streams, checkoutUrl),
    // Before the server stops taking connections: end the event streams, which would otherwise hold it open.
    open: (app) => app.addHook('preClose', async () => streams.endAll()),
    sweep: () => service.expireDue(),
    gauges: [
      countedGauge(
        db,
        BACKEND_COUNTED.orders,
        'tvpay_orders',
        'Orders by status and channel (renewal orders have channel renewal).',
      ),
    ],
  } satisfies Offers;
}

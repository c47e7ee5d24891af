import { backendConsole } from './console/backend-console.ts';
import { adminOrderSmsRoute } from './orders/order-sms.ts';
import { adminStatsRoutes } from './orders/order-stats.ts';
import type { Config } from '../config/config.ts';
import type { Secrets } from '../config/secrets.ts';
import type { Clock } from '../lib/clock.ts';
import { requireAdmin } from '../lib/auth.ts';
import type { DatabaseHandle } from '../lib/db/open-database.ts';
import { httpTransport, type PeerTransport } from '../lib/http/peer-transport.ts';
import { requireServiceSignature, SignedClient } from '../lib/http/service-auth.ts';
import { serviceCore } from '../lib/service/service-core.ts';
import type { RandomSource } from '../lib/ids.ts';
import type { Log } from '../lib/log.ts';
import { handler } from '../lib/outbox/outbox.ts';
import { assembleService } from '../lib/service/service.ts';
import { authenticatedScope, cookieScope } from '../lib/http/scope.ts';
import type { SmsGateway } from '../sms/gateway.ts';
import { smsGatewayRoutes } from '../sms/gateway-routes.ts';
import { smsAdminRoutes, smsBudgetRoute } from '../sms/sms-admin-routes.ts';
import { smsLog } from '../sms/sms-log.ts';
import { adminProductRoutes, ProductsService, tvProductRoutes } from './catalogue/products.ts';
import { adminDeviceRoutes, DevicesService } from './devices/devices.ts';
import { entitlementRoutes } from './entitlements/entitlements.ts';
import { OrderEvents } from './orders/order-events.ts';
import { PgOrderEvents } from './orders/pg-order-events.ts';
import { adminOrderRoutes, tvOrderRoutes } from './orders/orders-routes.ts';
import { StreamRegistry } from './orders/stream-registry.ts';
import { OrdersService, END_ATTEMPT_TOPIC, START_TOPIC } from './orders/orders-service.ts';
import { CLOSE_TOPIC, OrderEnding } from './orders/order-ending.ts';
import { smsBudgetRule } from '../sms/sms-budget.ts';
import { SMS_BUDGET_BUCKET } from '../sms/sms-admin-routes.ts';
import { countsBy } from '../lib/metrics/row-counts.ts';
import { LINK_SMS_TOPIC, PaymentAttempts } from './payments/payment-attempts.ts';
import { FULFIL_TOPIC, PaymentEvents } from './payments/payment-events.ts';
import { paymentEventRoutes } from './payments/payment-events-routes.ts';
import type { PaymentProvider } from './payments/payment-provider.ts';
import { TvpayProvider } from './payments/tvpay-provider.ts';
import { tvRailRoutes } from './rails/rails-routes.ts';
import { RailsService } from './rails/rails-service.ts';
import { BACKEND_COUNTED, backendMigrations, type BackendTables } from './schema.ts';
import { tvRoutes } from '../tv/tv-routes.ts';
import { traceOrder } from './orders/order-trace.ts';
import { ReconciliationService } from './reconciliation/reconciliation-service.ts';
import { adminReconciliationRoutes } from './reconciliation/reconciliation-routes.ts';
import { REFUND_TOPIC, RefundsService } from './refunds/refunds-service.ts';
import { adminRefundRoutes } from './refunds/refunds-routes.ts';
import { WebhookDelivery } from './webhooks/webhook-delivery.ts';
import { LinkTokens, type LinkedOrder } from './payments/link-tokens.ts';
import { adminWebhookRoutes } from './webhooks/webhooks-routes.ts';
import { TEXT_SMS_TOPIC, textSender } from '../sms/text-sms.ts';
import { RENEWAL_TOPIC, SubscriptionsService } from './subscriptions/subscriptions-service.ts';
import {
  adminSubscriptionRoutes,
  cancelByPhoneRoute,
  tvSubscriptionRoutes,
} from './subscriptions/subscriptions-routes.ts';
import { testClockRoutes, type TestClock } from '../lib/http/test-clock-routes.ts';
import { WEBHOOK_TOPIC, WebhooksService } from './webhooks/webhooks-service.ts';

/** How long the back-end keeps the list of rails that are on (each TV opening "check your phone" asks). */
const RAILS_CACHE_MS = 5000;
export interface BackendDeps {
  config: Readonly<Config>;
  secrets: Secrets;
  store: DatabaseHandle<BackendTables>;
  clock: Clock;
  random: RandomSource;
  gateway: SmsGateway;
  log: Log;
  /** Defaults to tvpay's payment server at the configured address. */
  provider?: PaymentProvider;
  /** How messages reach the payment server; over HTTP to its internal URL unless it runs in this process. */
  payserver?: PeerTransport;
  /** With TVPAY_TEST_CLOCK: the process's clock, which operators move forward. */
  testClock?: TestClock;
}

/**
 * Builds the back-end server (claims 1, 4–7): catalogue, devices, orders and
 * their event streams, the payer branch (bound → pre-pay, not bound → link
 * SMS), the payment-completed inbox and provisioning.
 */
// eslint-disable-next-line max-lines-per-function -- 321 lines; to be split into named pieces (issue 29)
export async function buildBackend(deps: BackendDeps) {
  const { config, secrets, clock, random, log } = deps;
  const core = await serviceCore({
    store: deps.store,
    migrations: backendMigrations,
    config,
    clock,
    log,
    title: 'tvpay back-end server',
    service: 'backend',
    lanes: [
      { topics: [WEBHOOK_TOPIC.name], batch: 64 },
      { topics: [RENEWAL_TOPIC.name], batch: 64 },
    ],
  });
  const { db, shared, storeCreated, worker, laneWorkers, kick, limiter, app, idem } = core;
  const events = new OrderEvents();
  const bridge =
    deps.store.dialect === 'postgres' ? new PgOrderEvents(config.backendDatabase, db, events, log) : undefined;
  await bridge?.start();
  const provider =
    deps.provider ??
    new TvpayProvider(
      new SignedClient(deps.payserver ?? httpTransport(config.internalUrls.payserver), secrets.serviceSecret, clock),
      config.publicUrls.payserver,
    );
  const linkTokens = new LinkTokens(secrets.encryptionKey);
  const sealed = await linkTokens.sealLegacy(db, deps.store.dialect !== 'postgres');
  if (sealed) log.info({ orders: sealed }, 'link tokens kept in plain text before were sealed or dropped');
  const checkoutUrl = (order: LinkedOrder) => provider.checkoutUrl(linkTokens.of(order));
  const window = config.limits.windowSeconds;

  const products = new ProductsService(db, clock);
  const devices = new DevicesService(db, random, clock);
  const fulfilment =
    config.fulfilment.url && config.fulfilment.secret
      ? {
          url: config.fulfilment.url,
          secret: config.fulfilment.secret,
          deadlineSeconds: config.fulfilment.deadlineSeconds,
        }
      : undefined;
  const webhooks = new WebhooksService({
    db,
    random,
    clock,
    encryptionKey: secrets.encryptionKey,
    fulfilment: fulfilment !== undefined,
    allowPrivate: config.webhookAllowPrivate,
  });
  const subscriptions = new SubscriptionsService({
    db,
    provider,
    webhooks,
    random,
    clock,
    kick,
    log,
    options: {
      noticeDays: config.renewalNoticeDays,
      locale: config.sms.locale,
      smsFrom: config.sms.payserverFrom,
      payee: config.merchantName,
      timeZone: config.businessTimeZone,
    },
    currentTerms: (productId) => products.terms(productId),
  });
  const ending = new OrderEnding({
    db,
    events,
    random,
    clock,
    kick,
    webhooks,
    onEndedIn: (trx, orderId, now) => subscriptions.orderEndedIn(trx, orderId, now),
  });
  const refunds = new RefundsService({ db, provider, webhooks, events, random, clock, kick, subscriptions });
  const attempts = new PaymentAttempts({
    db,
    provider,
    linkTokens,
    ending,
    gateway: deps.gateway,
    events,
    random,
    clock,
    log,
    options: {
      payee: config.merchantName,
      locale: config.sms.locale,
      smsFrom: config.sms.backendFrom,
      maxWrongCodes: config.maxWrongCodes,
    },
  });
  const orders = new OrdersService({
    db,
    products,
    limiter,
    events,
    ending,
    random,
    clock,
    kick,
    options: {
      orderTtlSeconds: config.orderTtlSeconds,
      regions: config.phoneRegions,
      payerPerPhone: {
        what: 'payer submissions for this phone',
        limit: config.limits.payerPerPhone,
        windowSeconds: window,
      },
      payerPerDevice: {
        what: 'payer submissions from this TV',
        limit: config.limits.payerPerDevice,
        windowSeconds: window,
      },
      payerPerAccount: {
        what: 'payer submissions for this subscriber',
        limit: config.limits.payerPerAccount,
        windowSeconds: window,
      },
      payerPerPrefix: {
        what: 'payer submissions for numbers like this one',
        limit: config.limits.payerPerPrefix,
        windowSeconds: window,
      },
      smsDailyBudget: smsBudgetRule(config.limits.smsDailyBudget),
      ordersPerDevice: { what: 'orders from this TV', limit: config.limits.ordersPerDevice, windowSeconds: window },
    },
    runAttempt: (order, startMessage) => attempts.runFrom(order, startMessage),
    onBudgetExhausted: () =>
      log.error(
        { budget: config.limits.smsDailyBudget },
        "the day's SMS budget is used up: new SMS payments are refused until the window resets",
      ),
  });
  const paymentEvents = new PaymentEvents({
    db,
    events,
    ending,
    refunds,
    webhooks,
    subscriptions,
    random,
    clock,
    kick,
    log,
    fulfilment,
    count: core.metrics.count,
  });
  const reconciliation = new ReconciliationService({
    db,
    provider,
    payments: paymentEvents,
    random,
    clock,
    timeZone: config.businessTimeZone,
    log: log.child({ part: 'reconciliation' }),
  });
  const webhookDelivery = new WebhookDelivery({
    db,
    clock,
    encryptionKey: secrets.encryptionKey,
    log: log.child({ part: 'webhooks' }),
    fulfilment: paymentEvents.fulfilmentHooks(),
    allowPrivate: config.webhookAllowPrivate,
  });

  const handlers = [
    handler(START_TOPIC, async (p) => void (await attempts.run(p))),
    handler(LINK_SMS_TOPIC, (p) => attempts.sendLink(p)),
    handler(CLOSE_TOPIC, (p) => attempts.close(p)),
    handler(END_ATTEMPT_TOPIC, (p) => attempts.endAttempt(p)),
    handler(FULFIL_TOPIC, (p) => paymentEvents.fulfil(p)),
    handler(REFUND_TOPIC, (p) => refunds.request(p)),
    handler(WEBHOOK_TOPIC, (p) => webhookDelivery.deliver(p)),
    handler(RENEWAL_TOPIC, (p) => subscriptions.requestCharge(p)),
    // Subscription SMS come from the payment server's number, where the payer's TD reply goes.
    handler(TEXT_SMS_TOPIC, textSender(db, deps.gateway, clock, config.sms.payserverFrom)),
  ];

  const { metrics } = core;
  metrics.expect.outboxTopics(handlers.map(([topic]) => topic));
  metrics.expect.refunds();
  metrics.gauge({
    name: 'tvpay_orders',
    help: 'Orders by status and channel (renewal orders have channel renewal).',
    labelNames: ['status', 'channel'],
    read: () => countsBy(db, BACKEND_COUNTED.orders),
  });
  metrics.gauge({
    name: 'tvpay_refunds',
    help: 'Refunds by status and who started them.',
    labelNames: ['status', 'initiated_by'],
    read: () => countsBy(db, BACKEND_COUNTED.refunds),
  });
  metrics.gauge({
    name: 'tvpay_subscriptions',
    help: 'Subscriptions by status.',
    labelNames: ['status'],
    read: () => countsBy(db, BACKEND_COUNTED.subscriptions),
  });
  metrics.gauge({
    name: 'tvpay_webhook_deliveries',
    help: 'Webhook deliveries by result (target fulfilment: the provisioning URL).',
    labelNames: ['status', 'target'],
    read: async () =>
      (await countsBy(db, BACKEND_COUNTED.webhookDeliveries)).reduce<
        Array<{ labels: Record<string, string>; value: number }>
      >((acc, r) => {
        const target = r.labels.webhook_id === 'fulfilment' ? 'fulfilment' : 'webhook';
        const same = acc.find((a) => a.labels.status === r.labels.status && a.labels.target === target);
        if (same) same.value += r.value;
        else acc.push({ labels: { status: r.labels.status!, target }, value: r.value });
        return acc;
      }, []),
  });
  metrics.gauge({
    name: 'tvpay_sms_budget',
    help: "The day's SMS budget: used and limit.",
    labelNames: ['what'],
    read: async () => {
      const u = await limiter.usage(SMS_BUDGET_BUCKET, smsBudgetRule(config.limits.smsDailyBudget));
      return [
        { labels: { what: 'used' }, value: u.hits },
        { labels: { what: 'limit' }, value: config.limits.smsDailyBudget },
      ];
    },
  });
  metrics.route([secrets.adminToken, ...(config.secrets.metricsToken ? [config.secrets.metricsToken] : [])]);

  const streams = new StreamRegistry({
    perDevice: config.limits.streamsPerDevice,
    perOrder: config.limits.streamsPerOrder,
  });
  // Before the server stops taking connections: end the event streams, which would otherwise hold it open.
  app.addHook('preClose', async () => streams.endAll());
  await authenticatedScope(app, requireAdmin(secrets.adminToken), idem, (admin) => {
    adminProductRoutes(admin, products);
    adminDeviceRoutes(admin, devices);
    adminOrderRoutes(admin, orders, checkoutUrl, (orderId) => traceOrder(db, provider, orderId, log));
    adminRefundRoutes(admin, refunds);
    adminWebhookRoutes(admin, webhooks);
    adminSubscriptionRoutes(admin, subscriptions, config.phoneRegions);
    adminReconciliationRoutes(admin, reconciliation);
    adminStatsRoutes(admin, db, clock, config.businessTimeZone);
    if (deps.testClock) testClockRoutes(admin, deps.testClock, dueNow);
    smsAdminRoutes(admin, shared, config.phoneRegions);
    adminOrderSmsRoute(admin, db, provider, log, config.phoneRegions);
    smsBudgetRoute(admin, limiter, smsBudgetRule(config.limits.smsDailyBudget));
  });
  const rails = new RailsService({
    provider,
    ownOrder: (device, orderId) => orders.getOwn(device, orderId),
    clock,
    payee: config.merchantName,
    log: log.child({ part: 'rails' }),
    cacheMs: RAILS_CACHE_MS,
  });
  await authenticatedScope(app, devices.hook(), idem, (tv) => {
    // The back-end's now on every TV answer: a TV counts an order's time left by it, not by its own clock.
    tv.addHook('onSend', async (_request, reply, payload) => {
      reply.header('x-server-now', clock.now().toISOString());
      return payload;
    });
    tvProductRoutes(tv, products);
    tvOrderRoutes(tv, orders, events, streams, checkoutUrl);
    tvRailRoutes(tv, rails);
    entitlementRoutes(tv, db);
    tvSubscriptionRoutes(tv, subscriptions);
  });
  tvRoutes(app);
  await cookieScope(app, (pages) =>
    backendConsole(pages, {
      adminToken: secrets.adminToken,
      random,
      clock,
      timeZone: config.businessTimeZone,
      db,
      limiter,
      publicUrl: config.publicUrls.backend,
    }),
  );
  const signed = requireServiceSignature(shared, secrets.serviceSecret, clock);
  paymentEventRoutes(app, paymentEvents, signed);
  cancelByPhoneRoute(app, subscriptions, config.phoneRegions, signed);
  smsGatewayRoutes(app, { db: shared, inboundToken: secrets.smsInboundToken, clock, count: metrics.count });

  const sweeper = core.sweeper(async () => {
    await orders.expireDue();
    await subscriptions.runDue();
    await reconciliation.sweep();
  }, [{ table: 'inbox', key: 'message_id', dated: 'received_at' }]);
  /** What is due at the clock's moment, done now: for the test clock's walk. */
  async function dueNow() {
    await sweeper.runOnce();
    await Promise.all([worker, ...laneWorkers].map((w) => w.drain()));
  }

  return assembleService({
    app,
    db,
    worker,
    laneWorkers,
    handlers,
    sweeper,
    store: {
      close: async () => {
        await bridge?.stop();
        await deps.store.close();
      },
    },
    storeCreated,
    services: {
      products,
      devices,
      orders,
      attempts,
      paymentEvents,
      refunds,
      webhooks,
      subscriptions,
      /** Delivery receipts from an SMS link (SMPP) for the SMS this service sent. */
      sms: {
        receipt: async (gatewayId: string, status: 'delivered' | 'failed') => {
          const smsId = await smsLog.byGatewayIdSoon(shared, gatewayId);
          if (smsId) await smsLog.report(shared, smsId, status, clock.now(), metrics.count);
        },
      },
    },
  });
}

import type { Config } from '../config/config.ts';
import type { Secrets } from '../config/secrets.ts';
import type { Clock } from '../lib/clock.ts';
import type { DatabaseHandle } from '../lib/db/open-database.ts';
import { httpTransport, type PeerTransport } from '../lib/http/peer-transport.ts';
import { authenticatedScope, cookieScope } from '../lib/http/scope.ts';
import { requireServiceSignature, SignedClient } from '../lib/http/service-auth.ts';
import type { TestClock } from '../lib/http/test-clock-routes.ts';
import { mountShared } from '../lib/service/feature.ts';
import type { RandomSource } from '../lib/ids.ts';
import type { Log } from '../lib/log.ts';
import { coreParts, serviceCore } from '../lib/service/service-core.ts';
import { assembleService } from '../lib/service/service.ts';
import type { SmsGateway } from '../sms/gateway.ts';
import { tvRoutes } from '../tv/tv-routes.ts';
import { createCatalogue } from './catalogue/create-catalogue.ts';
import { createConsole } from './console/create-console.ts';
import { createDevices } from './devices/create-devices.ts';
import type { DevicesService } from './devices/devices.ts';
import { createEntitlements } from './entitlements/create-entitlements.ts';
import type { BackendCore, Feature } from './core/feature.ts';
import { createOrderEnding, createOrders } from './orders/create-orders.ts';
import { OrderEvents } from './core/order-events.ts';
import { PgOrderEvents } from './orders/pg-order-events.ts';
import { createAttempts, createPaymentEvents } from './payments/create-payments.ts';
import { LinkTokens } from './core/link-tokens.ts';
import { sealLegacyLinkTokens } from './orders/order-store.ts';
import type { PaymentProvider } from './core/payment-provider.ts';
import { TvpayProvider } from './payments/tvpay-provider.ts';
import { createRails } from './rails/create-rails.ts';
import { createReconciliation } from './reconciliation/create-reconciliation.ts';
import { createRefunds } from './refunds/create-refunds.ts';
import type { BackendTables } from './schema.ts';
import { backendMigrations } from './migrations/index.ts';
import { createSms } from './sms/create-sms.ts';
import { createSubscriptions } from './subscriptions/create-subscriptions.ts';
import { RENEWAL_TOPIC } from './subscriptions/subscriptions-service.ts';
import { createWebhookDelivery, createWebhooks } from './webhooks/create-webhooks.ts';
import { WEBHOOK_TOPIC } from './webhooks/webhooks-service.ts';

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
 * Builds the back-end server (claims 1, 4–7): its features in the order they depend on each other
 * (catalogue, devices, webhooks, subscriptions, how an order ends, refunds, payment attempts, orders, the
 * payment-completed inbox and provisioning, reconciliation), then mounts what each offers.
 */
export async function buildBackend(deps: BackendDeps) {
  const { core, service, bridge } = await backendCore(deps);
  const catalogue = createCatalogue(core);
  const devices = createDevices(core);
  const webhooks = createWebhooks(core);
  const subscriptions = createSubscriptions(core, { webhooks: webhooks.service, catalogue: catalogue.service });
  const followers = { webhooks: webhooks.service, subscriptions: subscriptions.service };
  const ending = createOrderEnding(core, followers);
  const refunds = createRefunds(core, followers);
  const attempts = createAttempts(core, { ending });
  const orders = createOrders(core, { catalogue: catalogue.service, ending, attempts: attempts.service });
  const payments = createPaymentEvents(core, { ...followers, ending, refunds: refunds.service });
  const delivery = createWebhookDelivery(core, { fulfilment: payments.service.fulfilmentHooks() });
  const reconciliation = createReconciliation(core, { payments: payments.service });
  const sms = createSms(core);
  // Listed in the order their routes are shown (the admin API's document), handlers run and sweeps pass.
  const { handlers, sweeper } = await mount(service, core, deps.testClock, devices.service, [
    catalogue,
    devices,
    orders,
    attempts,
    payments,
    refunds,
    webhooks,
    delivery,
    createRails(core, { orders: orders.service }),
    createEntitlements(core),
    subscriptions,
    reconciliation,
    sms,
    { open: tvRoutes },
    createConsole(core),
  ]);
  return assembleService({
    app: service.app,
    db: core.db,
    worker: service.worker,
    laneWorkers: service.laneWorkers,
    handlers,
    sweeper,
    store: {
      close: async () => {
        await bridge?.stop();
        await deps.store.close();
      },
    },
    storeCreated: service.storeCreated,
    services: {
      products: catalogue.service,
      devices: devices.service,
      orders: orders.service,
      attempts: attempts.service,
      paymentEvents: payments.service,
      refunds: refunds.service,
      webhooks: webhooks.service,
      subscriptions: subscriptions.service,
      sms: sms.receipts,
    },
  });
}

type ServiceCore = Awaited<ReturnType<typeof serviceCore<BackendTables>>>;

/**
 * The service core (store, app, outbox with a lane each for webhooks and renewals, limiter, metrics) and
 * what every feature is built from: the orders' announcements (across instances on PostgreSQL), the
 * payment provider and the link tokens (those kept in plain text before are sealed or dropped here).
 */
async function backendCore(deps: BackendDeps) {
  const { config, secrets, clock, log } = deps;
  const service = await serviceCore({
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
  const { db } = service;
  const events = new OrderEvents();
  const postgres = deps.store.dialect === 'postgres';
  const bridge = postgres ? new PgOrderEvents(config.backendDatabase, db, events, log) : undefined;
  await bridge?.start();
  const provider =
    deps.provider ??
    new TvpayProvider(
      new SignedClient(deps.payserver ?? httpTransport(config.internalUrls.payserver), secrets.serviceSecret, clock),
      config.publicUrls.payserver,
    );
  const linkTokens = new LinkTokens(secrets.encryptionKey);
  const sealed = await sealLegacyLinkTokens(db, linkTokens, !postgres);
  if (sealed) log.info({ orders: sealed }, 'link tokens kept in plain text before were sealed or dropped');
  const core: BackendCore = {
    ...coreParts(service, deps),
    log,
    events,
    provider,
    linkTokens,
    checkoutUrl: (order) => provider.checkoutUrl(linkTokens.of(order)),
  };
  return { core, service, bridge };
}

/**
 * Mounts what the features offer, each kind in the features' order: the metrics (outbox topics, refunds,
 * gauges), the sweeper's pass, the admin routes (with the test clock's, when it is on), the TV routes
 * behind a device's token, the routes that check their callers themselves, the pages with cookies and
 * the routes signed by the payment server.
 */
async function mount(
  service: ServiceCore,
  core: BackendCore,
  testClock: TestClock | undefined,
  devices: Pick<DevicesService, 'hook'>,
  features: Feature[],
) {
  const { app, idem } = service;
  const { secrets, clock } = core;
  service.metrics.expect.refunds();
  const { handlers, sweeper } = await mountShared(service, core, features, {
    testClock,
    retained: { table: 'inbox', key: 'message_id', dated: 'received_at' },
  });
  await authenticatedScope(app, devices.hook(), idem, (tv) => {
    // The back-end's now on every TV answer: a TV counts an order's time left by it, not by its own clock.
    tv.addHook('onSend', async (_request, reply, payload) => {
      reply.header('x-server-now', clock.now().toISOString());
      return payload;
    });
    for (const f of features) f.tv?.(tv);
  });
  for (const f of features) f.open?.(app);
  await cookieScope(app, (pages) => {
    for (const f of features) f.pages?.(pages);
  });
  const signed = requireServiceSignature(service.shared, secrets.serviceSecret, clock);
  for (const f of features) f.internal?.(app, signed);
  return { handlers, sweeper };
}

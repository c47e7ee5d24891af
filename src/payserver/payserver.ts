import type { Config } from '../config/config.ts';
import type { Secrets } from '../config/secrets.ts';
import type { Clock } from '../lib/clock.ts';
import type { DatabaseHandle } from '../lib/db/open-database.ts';
import { httpTransport, type PeerTransport } from '../lib/http/peer-transport.ts';
import { requireServiceSignature, SignedClient } from '../lib/http/service-auth.ts';
import { cookieScope } from '../lib/http/scope.ts';
import type { TestClock } from '../lib/http/test-clock-routes.ts';
import { mountShared } from '../lib/service/feature.ts';
import type { RandomSource } from '../lib/ids.ts';
import type { Log } from '../lib/log.ts';
import { coreParts, serviceCore } from '../lib/service/service-core.ts';
import { assembleService } from '../lib/service/service.ts';
import type { SmsGateway } from '../sms/gateway.ts';
import { createAccounts } from './accounts/create-accounts.ts';
import { createAgreements } from './agreements/create-agreements.ts';
import { createCheckout } from './checkout/create-checkout.ts';
import { createConfirmations } from './confirmations/create-confirmations.ts';
import { createConsole } from './console/create-console.ts';
import type { Feature, PayserverCore } from './feature.ts';
import { providerApi } from './internal-routes.ts';
import { Ledger } from './ledger/ledger.ts';
import { createPayments } from './payments/create-payments.ts';
import { createRailPayments } from './rail-payments/create-rail-payments.ts';
import { createReconciliation } from './reconciliation/create-reconciliation.ts';
import { railRegistry, type RailRegistry } from './rails/registry.ts';
import { createRefunds } from './refunds/create-refunds.ts';
import { createRenewals } from './renewals/create-renewals.ts';
import type { PayserverTables } from './schema.ts';
import { payserverMigrations } from './migrations/index.ts';
import { createSettlement } from './settlement/create-settlement.ts';
import { createSms } from './sms/create-sms.ts';
import { createStatements } from './statements/create-statements.ts';

export interface PayserverDeps {
  config: Readonly<Config>;
  secrets: Secrets;
  store: DatabaseHandle<PayserverTables>;
  clock: Clock;
  random: RandomSource;
  gateway: SmsGateway;
  log: Log;
  /** How messages reach the back-end; over HTTP to its internal URL unless it runs in this process. */
  backend?: PeerTransport;
  /** With TVPAY_TEST_CLOCK: the process's clock, which operators move forward. */
  testClock?: TestClock;
  /** The money rails that are on (none when not given). */
  rails?: RailRegistry;
}

/**
 * Builds the payment server (claims 2, 3 and 8): its features in the order they depend on each other
 * (accounts and ledger, pre-pay with wallet-then-card holds, the code SMS and the reply, the phone
 * checkout page, refunds, renewals, the rails), then mounts what each offers.
 */
export async function buildPayserver(deps: PayserverDeps) {
  const { core, service } = await payserverCore(deps);
  const rails = deps.rails ?? railRegistry([]);
  const ledger = new Ledger(core.random, core.clock);
  const settlement = createSettlement(core, { ledger });
  const sms = createSms(core);
  const { budget } = sms;
  const agreements = createAgreements(core, { rails });
  const payers = agreements.service;
  const accounts = createAccounts(core, { ledger, payers });
  const refunds = createRefunds(core, { ledger, rails });
  const onRefundEvent = refunds.rail.onEvent.bind(refunds.rail);
  const railPayments = createRailPayments(core, { rails, settlement, agreements: payers, onRefundEvent });
  const railCharges = railPayments.service;
  const { refundLate } = refunds;
  const railsOn = rails.on.length > 0;
  const payments = createPayments(core, { ledger, settlement, budget, payers, railsOn, refundLate });
  const confirmations = createConfirmations(core, { settlement, budget, railCharges });
  const checkout = createCheckout(core, { ledger, settlement, budget, rails: railPayments.checkout });
  const renewals = createRenewals(core, { ledger, settlement, payers, railCharges });
  const provider = providerApi({
    accounts: accounts.service,
    payments: payments.service,
    refunds: refunds.service,
    renewals: renewals.service,
    regions: core.config.phoneRegions,
  });
  const reconciliation = createReconciliation(core, { rails, payments: railCharges });
  // Listed in the order their routes are shown (the admin API's document), handlers run and sweeps pass.
  const { handlers, sweeper } = await mount(service, core, deps.testClock, [
    accounts,
    payments,
    railPayments,
    agreements,
    sms,
    createStatements(core),
    reconciliation,
    provider,
    refunds,
    confirmations,
    checkout,
    createConsole(core),
  ]);
  return assembleService({
    app: service.app,
    db: core.db,
    worker: service.worker,
    handlers,
    sweeper,
    store: deps.store,
    storeCreated: service.storeCreated,
    services: {
      accounts: accounts.service,
      payments: payments.service,
      refunds: refunds.service,
      replies: confirmations.replies,
      checkout: checkout.service,
      rails: railCharges,
      sms: confirmations.sms,
    },
  });
}

type ServiceCore = Awaited<ReturnType<typeof serviceCore<PayserverTables>>>;

/** The service core (store, app, outbox, limiter, metrics) and what every feature is built from. */
async function payserverCore(deps: PayserverDeps): Promise<{ core: PayserverCore; service: ServiceCore }> {
  const { config, secrets, clock } = deps;
  const service = await serviceCore({
    store: deps.store,
    migrations: payserverMigrations,
    config,
    clock,
    log: deps.log,
    title: 'tvpay payment server',
    service: 'payserver',
  });
  const core: PayserverCore = {
    ...coreParts(service, deps),
    deliverNow: (messageId) => service.worker.deliverNow(messageId),
    backend: new SignedClient(deps.backend ?? httpTransport(config.internalUrls.backend), secrets.serviceSecret, clock),
  };
  return { core, service };
}

/**
 * Mounts what the features offer, each kind in the features' order: the metrics (outbox topics, gauges),
 * the sweeper's pass, the admin routes (with the test clock's, when it is on), the routes signed by the
 * back-end, the routes that check their callers themselves, and the pages with cookies.
 */
async function mount(service: ServiceCore, core: PayserverCore, testClock: TestClock | undefined, features: Feature[]) {
  const { app } = service;
  const { handlers, sweeper } = await mountShared(service, core, features, {
    testClock,
    retained: { table: 'page_sessions', key: 'id', dated: 'created_at' },
  });
  const signed = requireServiceSignature(service.shared, core.secrets.serviceSecret, core.clock);
  for (const f of features) f.internal?.(app, signed);
  for (const f of features) await f.open?.(app);
  await cookieScope(app, (pages) => {
    for (const f of features) f.pages?.(pages);
  });
  return { handlers, sweeper };
}

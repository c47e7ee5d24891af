import { payserverConsole } from './console/payserver-console.ts';
import { crashPoint } from '../lib/crash-points.ts';
import type { Config } from '../config/config.ts';
import type { Secrets } from '../config/secrets.ts';
import type { Clock } from '../lib/clock.ts';
import type { DatabaseHandle } from '../lib/db/open-database.ts';
import { requireAdmin } from '../lib/auth.ts';
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
import { accountsRoutes } from './accounts/accounts-routes.ts';
import { AccountsService } from './accounts/accounts-service.ts';
import { checkoutRoutes, type CheckoutRails } from './checkout/checkout-routes.ts';
import { CheckoutService, POSSESSION_SMS_TOPIC } from './checkout/checkout-service.ts';
import { CodeSmsSender } from './confirmations/code-sms-sender.ts';
import { ReplyService } from './confirmations/reply-service.ts';
import { internalRoutes } from './internal-routes.ts';
import { Ledger } from './ledger/ledger.ts';
import { auditLedger } from './ledger/ledger-audit.ts';
import { accountEntries } from './ledger/account-entries.ts';
import { adminPaymentRoutes } from './payments/payments-admin-routes.ts';
import { CODE_SMS_TOPIC, PaymentsService } from './payments/payments-service.ts';
import { SmsBudget, smsBudgetRule } from '../sms/sms-budget.ts';
import { countsBy } from '../lib/metrics/row-counts.ts';
import { statementInternalRoute, statementRoutes } from './statements/statements-routes.ts';
import type { PaymentEventAnswer } from '../contracts/provider-api.ts';
import { DECLINED_SMS_TOPIC, NOTIFY_TOPIC, Settlement } from './payments/settlement.ts';
import { lateRefundId, REFUND_SMS_TOPIC, RefundsService } from './refunds/refunds-service.ts';
import { RenewalsService } from './renewals/renewals-service.ts';
import { RECEIPT_SMS_TOPIC, receiptSender } from './payments/receipts.ts';
import { CANCEL_REPLY_TOPIC } from './confirmations/reply-service.ts';
import { TEXT_SMS_TOPIC, textSender } from '../sms/text-sms.ts';
import { testClockRoutes, type TestClock } from '../lib/http/test-clock-routes.ts';
import { PAYSERVER_COUNTED, payserverMigrations, type PayserverTables } from './schema.ts';
import { railRegistry, type RailRegistry } from './rails/registry.ts';
import { railAdminRoutes } from './rails/rails-admin-routes.ts';
import { RailPayments } from './rails/rail-payments.ts';
import { RailReconciliation } from './rails/reconciliation/reconciliation.ts';
import { reconciliationRoutes } from './rails/reconciliation/reconciliation-routes.ts';
import { railInternalRoutes, railNotifyRoutes } from './rails/rails-routes.ts';
import { RAIL_CHARGE_TOPIC, RAIL_CLOSE_TOPIC, RAIL_LATE_REFUND_TOPIC, RAIL_REFUND_TOPIC } from './rails/rail-topics.ts';
import { Agreements } from './agreements/agreements.ts';
import { agreementsRoutes } from './agreements/agreements-routes.ts';
import { RailRefunds } from './refunds/rail-refunds.ts';
import { paymentStore } from './payments/payment-store.ts';

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
 * Builds the payment server (claims 2, 3, 8): accounts and ledger, pre-pay
 * with wallet-then-card holds, the code SMS and the reply, the phone checkout
 * page, and the outbox that tells the back-end each outcome.
 */
// eslint-disable-next-line max-lines-per-function -- 269 lines; to be split into named pieces (issue 29)
export async function buildPayserver(deps: PayserverDeps) {
  const { config, secrets, clock, random, log } = deps;
  const core = await serviceCore({
    store: deps.store,
    migrations: payserverMigrations,
    config,
    clock,
    log,
    title: 'tvpay payment server',
    service: 'payserver',
  });
  const { db, shared, storeCreated, worker, kick, limiter, app, idem } = core;

  const codeKey = secrets.codeKey;
  const window = config.limits.windowSeconds;
  const codeSendsPerPhone = {
    what: 'codes sent to this phone',
    limit: config.limits.codeSendsPerPhone,
    windowSeconds: window,
  };
  const codeSendsPerDevice = {
    what: 'codes sent for this TV',
    limit: config.limits.codeSendsPerDevice,
    windowSeconds: window,
  };

  const ledger = new Ledger(random, clock);
  const settlement = new Settlement(ledger, random, clock, config.sms.payserverFrom);
  const budget = new SmsBudget(limiter, smsBudgetRule(config.limits.smsDailyBudget));
  const rails = deps.rails ?? railRegistry([]);
  const agreements = new Agreements({
    db,
    rails,
    random,
    clock,
    kick,
    options: { smsFrom: config.sms.payserverFrom, locale: config.sms.locale },
  });
  const accounts = new AccountsService({ db, ledger, random, clock, regions: config.phoneRegions, payers: agreements });
  const refunds = new RefundsService({
    db,
    ledger,
    gateway: deps.gateway,
    random,
    clock,
    kick,
    options: { locale: config.sms.locale, smsFrom: config.sms.payserverFrom },
  });
  const railRefunds = new RailRefunds({ db, ledger, rails, refunds, random, clock, kick });
  const railPayments = new RailPayments({
    db,
    rails,
    settlement,
    random,
    clock,
    kick,
    agreements,
    onRefundEvent: (rail, event) => railRefunds.onEvent(rail, event),
  });
  const payments = new PaymentsService({
    payers: agreements,
    db,
    ledger,
    settlement,
    limiter,
    random,
    clock,
    kick,
    budget,
    options: {
      regions: config.phoneRegions,
      railsOn: (deps.rails?.on.length ?? 0) > 0,
      codeTtlSeconds: config.codeTtlSeconds,
      codeSendsPerPhone,
      codeSendsPerDevice,
      smsFrom: config.sms.payserverFrom,
    },
  });
  const replies = new ReplyService({
    railCharges: railPayments,
    db,
    settlement,
    limiter,
    clock,
    kick,
    random,
    budget,
    options: {
      codeKey,
      regions: config.phoneRegions,
      maxWrongCodes: config.maxWrongCodes,
      codeChecksPerPhone: {
        what: 'code checks for this phone',
        limit: config.limits.codeChecksPerPhone,
        windowSeconds: window,
      },
      answersPerPhone: {
        what: 'answers to replies from this phone',
        limit: config.limits.codeChecksPerPhone,
        windowSeconds: window,
      },
      locale: config.sms.locale,
      payee: config.merchantName,
      smsFrom: config.sms.payserverFrom,
    },
  });
  const checkout = new CheckoutService({
    db,
    ledger,
    settlement,
    limiter,
    random,
    clock,
    kick,
    budget,
    options: {
      codeKey,
      maxWrongCodes: config.maxWrongCodes,
      codeSendsPerPhone,
      codeSendsPerDevice,
      smsFrom: config.sms.payserverFrom,
      locale: config.sms.locale,
    },
    deliverNow: (messageId) => worker.deliverNow(messageId),
  });
  const codes = new CodeSmsSender({
    db,
    gateway: deps.gateway,
    random,
    clock,
    settlement,
    kick,
    budget,
    count: core.metrics.count,
    options: {
      codeKey,
      codeTtlSeconds: config.codeTtlSeconds,
      locale: config.sms.locale,
      from: config.sms.payserverFrom,
    },
  });
  const renewals = new RenewalsService({
    db,
    ledger,
    settlement,
    random,
    clock,
    kick,
    options: { regions: config.phoneRegions },
    payers: agreements,
    railCharges: railPayments,
  });
  /** A payment that arrived for an order already ended or paid goes back in full, as the back-end would ask. */
  const refundLate = async (paymentId: string) => {
    const payment = await paymentStore.byId(db, paymentId);
    if (!payment) return;
    await refunds.refund({
      refundId: lateRefundId(paymentId),
      orderId: payment.order_id,
      paymentId,
      amountMinor: Number(payment.amount_minor),
      currency: payment.currency,
      reason: 'The order had ended when the payment arrived.',
    });
  };
  const backend = new SignedClient(
    deps.backend ?? httpTransport(config.internalUrls.backend),
    secrets.serviceSecret,
    clock,
  );

  const handlers = [
    handler(CODE_SMS_TOPIC, (p, id, attempt) => codes.sendPaymentCode(p, id, attempt)),
    handler(POSSESSION_SMS_TOPIC, (p) => codes.sendPossessionCode(p)),
    handler(DECLINED_SMS_TOPIC, (p) => codes.sendDeclined(p)),
    handler(REFUND_SMS_TOPIC, (p) => refunds.sendReceipt(p)),
    handler(
      RECEIPT_SMS_TOPIC,
      receiptSender(db, deps.gateway, clock, { locale: config.sms.locale, from: config.sms.payserverFrom }),
    ),
    handler(TEXT_SMS_TOPIC, textSender(db, deps.gateway, clock, config.sms.payserverFrom)),
    handler(
      CANCEL_REPLY_TOPIC,
      async (p) => void (await backend.post('/internal/v1/subscriptions/cancel-by-phone', p)),
    ),
    handler(RAIL_CLOSE_TOPIC, (p) => railPayments.close(p)),
    handler(RAIL_CHARGE_TOPIC, (p) => railPayments.charge(p)),
    handler(RAIL_REFUND_TOPIC, (p, id, attempt) => railRefunds.request(p, id, attempt)),
    handler(RAIL_LATE_REFUND_TOPIC, (p) => refundLate(p.paymentId)),
    handler(NOTIFY_TOPIC, async (event) => {
      const answer = await backend.post<PaymentEventAnswer>('/internal/v1/payment-events', event);
      crashPoint('payserver.after-notify');
      // A payment the back-end refused (its order had ended) goes back to the payer as an ordinary refund.
      if (answer.result === 'rejected' && event.type === 'payment.completed') await refundLate(event.paymentId);
    }),
  ];

  const signed = requireServiceSignature(shared, secrets.serviceSecret, clock);
  const { metrics } = core;
  metrics.expect.outboxTopics(handlers.map(([topic]) => topic));
  metrics.gauge({
    name: 'tvpay_payments',
    help: 'Payments by outcome (status), source and method.',
    labelNames: ['status', 'source', 'method'],
    read: () => countsBy(db, PAYSERVER_COUNTED.payments),
  });
  metrics.gauge({
    name: 'tvpay_provider_refunds',
    help: 'Refunds made at the payment server, by status and source.',
    labelNames: ['status', 'source'],
    read: () => countsBy(db, PAYSERVER_COUNTED.refunds),
  });
  metrics.route([secrets.adminToken, ...(config.secrets.metricsToken ? [config.secrets.metricsToken] : [])]);

  await authenticatedScope(app, requireAdmin(secrets.adminToken), idem, (admin) => {
    accountsRoutes(
      admin,
      accounts,
      () => auditLedger(db),
      (accountId) => accountEntries(db, accountId),
    );
    adminPaymentRoutes(admin, db, config.phoneRegions);
    railAdminRoutes(admin, db, rails);
    agreementsRoutes(admin, agreements, config.phoneRegions);
    smsAdminRoutes(admin, shared, config.phoneRegions);
    smsBudgetRoute(admin, limiter, smsBudgetRule(config.limits.smsDailyBudget));
    if (deps.testClock) testClockRoutes(admin, deps.testClock, dueNow);
    statementRoutes(admin, db, config.businessTimeZone);
    reconciliationRoutes(admin, new RailReconciliation({ db, rails, payments: railPayments, clock }));
  });
  statementInternalRoute(app, db, config.businessTimeZone, signed);
  internalRoutes(app, { accounts, payments, refunds, renewals, regions: config.phoneRegions, signed });
  railInternalRoutes(app, { rails, payments: railPayments, signed });
  await railNotifyRoutes(app, { rails, payments: railPayments });
  smsGatewayRoutes(app, {
    db: shared,
    inboundToken: secrets.smsInboundToken,
    clock,
    onReply: (from, text) => replies.handle(from, text),
    onUndelivered: (smsId) => codes.deliveryFailed(smsId),
    count: metrics.count,
  });
  await cookieScope(app, (pages) => {
    checkoutRoutes(pages, checkout, {
      timeZone: config.businessTimeZone,
      ...(rails.on.length ? { rails: checkoutRails(rails, railPayments, config) } : {}),
    });
    payserverConsole(pages, {
      adminToken: secrets.adminToken,
      random,
      clock,
      timeZone: config.businessTimeZone,
      db,
      limiter,
      publicUrl: config.publicUrls.payserver,
    });
  });

  const sweeper = core.sweeper(async () => {
    await payments.expire();
    await railPayments.sweep();
  }, [{ table: 'page_sessions', key: 'id', dated: 'created_at' }]);
  /** What is due at the clock's moment, done now: for the test clock's walk. */
  async function dueNow() {
    await sweeper.runOnce();
    await Promise.all([worker, ...core.laneWorkers].map((w) => w.drain()));
  }

  return assembleService({
    app,
    db,
    worker,
    handlers,
    sweeper,
    store: deps.store,
    storeCreated,
    services: {
      accounts,
      payments,
      refunds,
      replies,
      checkout,
      rails: railPayments,
      /** What an SMS link (SMPP) hands over: replies and delivery receipts. */
      sms: {
        reply: (from: string, text: string) => replies.handle(from, text),
        receipt: async (gatewayId: string, status: 'delivered' | 'failed') => {
          const smsId = await smsLog.byGatewayIdSoon(shared, gatewayId);
          if (smsId && (await smsLog.report(shared, smsId, status, clock.now(), metrics.count)))
            await codes.deliveryFailed(smsId);
        },
      },
    },
  });
}

/** What the checkout page needs of the rails that are on. */
function checkoutRails(rails: RailRegistry, railPayments: RailPayments, config: Readonly<Config>): CheckoutRails {
  const devRail = rails.on.some((r) => r.mode === 'dev');
  return {
    choices: rails.on.map((r) => ({ rail: r.name, title: r.title, dev: r.mode === 'dev', agreements: r.agreements })),
    // The rails' payment pages are on https; a development gateway's on the carrier's server.
    formActions: ['https:', ...(devRail ? [new URL(config.publicUrls.carrier).origin] : [])],
    publicUrl: config.publicUrls.payserver,
    startPage: (checkout, rail, page) => railPayments.startPage(checkout, rail, page),
    returned: (orderId) => railPayments.returned(orderId),
  };
}

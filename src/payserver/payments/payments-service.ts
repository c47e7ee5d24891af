import { crashPoint } from '../../lib/crash-points.ts';
import type { UnitOfWork } from '../../lib/db/unit-of-work.ts';
import type { OrdersSms, OrderTrace, StartPaymentRequest, StartPaymentResult } from '../../contracts/provider-api.ts';
import { refundStore } from '../refunds/refund-store.ts';
import type { Clock } from '../../lib/clock.ts';
import { isUniqueViolation } from '../../lib/db/unique-violation.ts';
import { sha256, type RandomSource } from '../../lib/ids.ts';
import { queueSms } from '../outbox.ts';
import { normalizePhone } from '../../lib/phone.ts';
import type { RateLimiter } from '../../lib/rate-limiter.ts';
import { smsLog } from '../../sms/sms-log.ts';
import type { SmsBudget } from '../../sms/sms-budget.ts';
import { codeSendBuckets, type CodeSendRules } from '../confirmations/code-send-limits.ts';
import { CODE_SMS_TOPIC } from '../confirmations/code-topics.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { PayserverDb, PayserverTables } from '../schema.ts';
import { accountStore } from '../accounts/account-store.ts';
import { checkoutStore } from '../settlement/checkout-store.ts';
import { newPayment, paymentStore } from '../settlement/payment-store.ts';
import { railTraceOf } from '../rail-payments/rail-trace.ts';
import type { Payers } from '../accounts/accounts-service.ts';
import type { Payer } from '../agreements/agreements.ts';
import { queueDeclined, type Settlement } from '../settlement/settlement.ts';

/** What the payment server answers a start: the provider contract plus the payment it made. */
export type StartResult = StartPaymentResult & { paymentId: string | null };

/** Failures at the start that the phone is told of by SMS (probing a number is never silent). */
const TOLD_TO_PHONE = new Set(['INSUFFICIENT_FUNDS', 'NOT_BOUND', 'CURRENCY_MISMATCH', 'NO_ACCOUNT']);

export interface PaymentsOptions extends CodeSendRules {
  regions: readonly string[];
  /** Whether any money rail is on (a phone without a wallet can still pay on the page). */
  railsOn?: boolean;
  codeTtlSeconds: number;
  smsFrom: string;
}

/**
 * What the services that start and take payments are built from: the store, the ledger and its moves, the limits, the
 * SMS budget.
 */
export interface PaymentParts {
  db: PayserverDb;
  ledger: Ledger;
  settlement: Settlement;
  limiter: RateLimiter;
  random: RandomSource;
  clock: Clock;
  /** Its transactions, which wake the outbox workers once they have committed. */
  work: UnitOfWork<PayserverTables>;
  budget: SmsBudget;
}

/** What PaymentsService is built from. */
export interface PaymentsServiceDeps extends PaymentParts {
  options: PaymentsOptions;
  /** Who pays for a bound phone (the wallet's quick pay or a rail agreement, the newest). */
  payers: Payers<Payer>;
}

/** The day's SMS budget refused a start's code SMS: thrown to roll that start back (PaymentsService.start). */
class BudgetOut extends Error {
  constructor() {
    super("the day's SMS budget refused the code SMS");
  }
}

/**
 * The wallet-then-card rule of a bound phone's payment: the amount held on the wallet, else on the card,
 * in the caller's transaction; null when neither covers it (nothing held).
 */
export async function holdForPayment(
  trx: PayserverDb,
  ledger: Ledger,
  accountId: string,
  amountMinor: number,
  paymentId: string,
): Promise<{ account_id: string; source: 'wallet' | 'card'; hold_id: string } | null> {
  const ledgers = await accountStore.sources(trx, accountId);
  for (const kind of ['wallet', 'card'] as const) {
    const la = ledgers.find((l) => l.kind === kind);
    const holdId = la ? await ledger.reserve(trx, la.id, amountMinor, paymentId) : null;
    if (holdId) return { account_id: accountId, source: kind, hold_id: holdId };
  }
  return null;
}

/**
 * The payment server's side of an order (claims 2, 3 and 8): registering the
 * phone checkout for each payer attempt, the pre-pay of a bound phone (hold on
 * the wallet, else on the card, else INSUFFICIENT_FUNDS with nothing moved),
 * closing an order the back-end gave up on, and expiring what timed out.
 */
export class PaymentsService {
  constructor(private readonly deps: PaymentsServiceDeps) {}

  /** Idempotent on (orderId, attempt): a retried message answers what the first one did. */
  async start(req: StartPaymentRequest): Promise<StartResult> {
    const phone = normalizePhone(req.phone, this.deps.options.regions);
    if (req.mode === 'sms_confirm') {
      const prior = await this.existingSmsPayment(req);
      if (prior) return prior;
    }
    try {
      const run = (budgetOut: boolean) =>
        this.deps.work.run(async (trx) => {
          // The code-send limits count in the same transaction as the start (one durable commit).
          const rateLimited =
            req.mode === 'sms_confirm' &&
            (await this.deps.limiter.count(trx, codeSendBuckets(phone, req.deviceId, this.deps.options))) !== undefined;
          return this.startIn(trx, req, phone, { rateLimited, budgetOut });
        });
      // The day's budget refused the code SMS: all of that start rolled back, and it runs again to fail as such.
      const result = await run(false).catch((err) => (err instanceof BudgetOut ? run(true) : Promise.reject(err)));
      if (result.state === 'pending_confirmation') crashPoint('payserver.after-hold');
      return result;
    } catch (err) {
      if (isUniqueViolation(err)) {
        const prior = await this.existingSmsPayment(req);
        if (prior) return prior;
      }
      throw err;
    }
  }

  /**
   * `budgetOut`: an earlier run of this start found the day's SMS budget used up (BudgetOut), so this one fails
   * with SMS_BUDGET_EXHAUSTED where it would have held and queued the code.
   */
  private async startIn(
    trx: PayserverDb,
    req: StartPaymentRequest,
    phone: string,
    { rateLimited, budgetOut }: { rateLimited: boolean; budgetOut: boolean },
  ): Promise<StartResult> {
    const now = this.deps.clock.now();
    const none = { failureCode: null, paymentId: null };
    // The checkout row is the order's lock: created if missing, then taken by a conditional update
    // that only a start for the current or a newer attempt wins. A start racing a newer one (on
    // another instance) waits for it and then finds itself superseded.
    await checkoutStore.ensure(trx, { ...req, linkTokenHash: sha256(req.linkToken), phone, now });
    if (!(await checkoutStore.take(trx, req.orderId, phone, req.attempt))) {
      const status = await checkoutStore.statusOf(trx, req.orderId);
      if (status === 'paid') return { state: 'paid', ...none };
      if (status === 'closed' || status === 'never_started') return { state: 'closed', ...none };
      return { state: 'superseded', ...none };
    }
    const older = await paymentStore.pendingOfOrder(trx, req.orderId, { beforeAttempt: req.attempt });
    for (const p of older) await this.deps.settlement.release(trx, p, 'SUPERSEDED');
    // A phone with no wallet here at all cannot pay on the checkout page either: say so at once (the TV offers
    // another number, the phone is told by SMS) rather than send a link to a dead end.
    // The phone's wallet account and who pays for it, in one read.
    const { account, payer } = await this.deps.payers.payerOf(trx, phone);
    // With a money rail on, a phone with no wallet pays on the page by the rail; NO_ACCOUNT is for when none is.
    if (req.mode === 'wap_link' && (account || this.deps.options.railsOn))
      return { state: 'awaiting_checkout', ...none };

    const paymentId = this.deps.random.id('pay');
    const base = newPayment({
      id: paymentId,
      order_id: req.orderId,
      attempt: req.attempt,
      method: 'sms_code',
      phone,
      amount_minor: req.amountMinor,
      currency: req.currency,
      status: 'failed',
      created_at: now.toISOString(),
      completed_at: now.toISOString(),
    });
    const failWith = async (failureCode: string): Promise<StartResult> => {
      await paymentStore.insert(trx, { ...base, failure_code: failureCode });
      // The phone hears of it (within the SMS limits and budget), so probing a number is never silent.
      if (TOLD_TO_PHONE.has(failureCode) && !rateLimited && (await this.deps.budget.take(trx))) {
        await queueDeclined(trx, this.deps.random, { paymentId, to: phone, from: this.deps.options.smsFrom }, now);
      }
      return { state: 'failed', failureCode, paymentId };
    };
    // The phone's agreement agreed to last pays: the wallet's quick pay, or one at a rail.
    if (!payer) return failWith(account ? 'NOT_BOUND' : 'NO_ACCOUNT');
    const currency = payer.kind === 'wallet' ? payer.account.currency : 'CNY';
    if (currency !== req.currency) return failWith('CURRENCY_MISMATCH');
    if (rateLimited) return failWith('SMS_RATE_LIMITED');

    if (budgetOut) return failWith('SMS_BUDGET_EXHAUSTED');
    // Under a rail's agreement nothing is held: the rail is asked to charge once the code comes back.
    const funding =
      payer.kind === 'rail'
        ? { source: payer.rail, external_agreement_no: payer.agreement.external_agreement_no }
        : await holdForPayment(trx, this.deps.ledger, payer.account.id, req.amountMinor, paymentId);
    if (!funding) return failWith('INSUFFICIENT_FUNDS');

    await paymentStore.insert(trx, {
      ...base,
      ...funding,
      status: 'pending',
      completed_at: null,
      code_expires_at: new Date(now.getTime() + this.deps.options.codeTtlSeconds * 1000).toISOString(),
    });
    await queueSms(
      trx,
      this.deps.random,
      { kind: 'code', to: phone, from: this.deps.options.smsFrom, now, ref: paymentId },
      { topic: CODE_SMS_TOPIC, payload: (smsId) => ({ paymentId, smsId }) },
    );
    // The code's SMS from the day's budget, taken last: its one row, shared by every start of every instance, stays
    // locked from here to the COMMIT only, not across the hold and the inserts (issue 30: it was the lock the
    // starts waited on with two instances). Refused, the start rolls back and runs again to fail (start()).
    if (!(await this.deps.budget.take(trx))) throw new BudgetOut();
    return { state: 'pending_confirmation', failureCode: null, paymentId };
  }

  private async existingSmsPayment(req: StartPaymentRequest): Promise<StartResult | null> {
    const p = await paymentStore.smsPaymentOf(this.deps.db, req.orderId, req.attempt);
    if (!p) return null;
    if (p.status === 'failed') return { state: 'failed', failureCode: p.failure_code, paymentId: p.id };
    if (p.status === 'captured') return { state: 'paid', failureCode: null, paymentId: p.id };
    if (p.status === 'released') return { state: 'superseded', failureCode: null, paymentId: p.id };
    return { state: 'pending_confirmation', failureCode: null, paymentId: p.id };
  }

  /**
   * Closes an order the back-end ended (cancelled, expired, failed): no new
   * payment may start or capture for it and whatever is held is released.
   * A payment that captured first stays captured; the back-end refuses it
   * and it is refunded.
   */
  async close(orderId: string): Promise<{ state: 'closed' | 'paid' }> {
    const state = await this.deps.work.run(async (trx) => {
      const status = await checkoutStore.statusOf(trx, orderId);
      if (!status) {
        await checkoutStore.closeBeforeStart(
          trx,
          orderId,
          sha256(this.deps.random.token()),
          this.deps.clock.now().toISOString(),
        );
        return 'closed' as const;
      }
      await checkoutStore.close(trx, orderId);
      for (const p of await paymentStore.pendingOfOrder(trx, orderId))
        await this.deps.settlement.release(trx, p, 'ORDER_CLOSED');
      await this.deps.settlement.closeRailTrades(trx, orderId);
      return status === 'paid' ? ('paid' as const) : ('closed' as const);
    });
    return { state };
  }

  /**
   * Ends the order's pending attempt without a new payer (the viewer chose "change number" on the TV):
   * the checkout's attempt is raised to `attempt`, so an older start is superseded, and every pending
   * payment of an older attempt is released, so its code is refused and its hold given back. The order
   * stays open for the next number. A payment that captured first stays captured (`paid`).
   */
  async endAttempt(orderId: string, attempt: number): Promise<{ state: 'ended' | 'paid' | 'closed' }> {
    const state = await this.deps.work.run(async (trx) => {
      const status = await checkoutStore.statusOf(trx, orderId);
      if (status === 'paid') return 'paid' as const;
      if (!status) return 'ended' as const;
      await checkoutStore.raiseAttempt(trx, orderId, attempt);
      for (const p of await paymentStore.pendingOfOrder(trx, orderId, { beforeAttempt: attempt }))
        await this.deps.settlement.release(trx, p, 'SUPERSEDED');
      return status === 'open' ? ('ended' as const) : ('closed' as const);
    });
    return { state };
  }

  /** An order's payments, the SMS of them and of their refunds, its rail trades: the back-end's timeline. */
  async trace(orderId: string): Promise<OrderTrace> {
    const payments = await paymentStore.ofOrder(this.deps.db, orderId);
    const refunds = await refundStore.ofOrder(this.deps.db, orderId);
    const sms = await smsLog.ofRefs(this.deps.db, [...payments.map((p) => p.id), ...refunds.map((r) => r.id)]);
    return {
      payments: payments.map((p) => ({
        paymentId: p.id,
        method: p.method,
        status: p.status,
        source: p.source,
        amountMinor: Number(p.amount_minor),
        refundedMinor: Number(p.refunded_minor),
        failureCode: p.failure_code,
        createdAt: p.created_at,
        completedAt: p.completed_at,
      })),
      sms: sms.map((s) => ({
        smsId: s.id,
        kind: s.kind,
        status: s.status,
        createdAt: s.created_at,
        updatedAt: s.updated_at,
      })),
      rails: await railTraceOf(this.deps.db, orderId),
    };
  }

  /** The SMS this service sent for some orders' payments and refunds (codes, receipts, refund notices). */
  async smsOfOrders(orderIds: string[]): Promise<OrdersSms> {
    const things = [
      ...(await paymentStore.idsOfOrders(this.deps.db, orderIds)),
      ...(await refundStore.idsOfOrders(this.deps.db, orderIds)),
    ];
    const orderOf = new Map(things.map((t) => [t.id, t.order_id]));
    const sms = await smsLog.ofRefs(this.deps.db, [...orderOf.keys()]);
    return {
      items: sms.map((s) => ({
        orderId: orderOf.get(s.ref!)!,
        smsId: s.id,
        kind: s.kind,
        status: s.status,
        to: s.to_phone,
        createdAt: s.created_at,
        updatedAt: s.updated_at,
      })),
    };
  }

  /** Fails payments whose code expired and closes checkouts whose order expired. */
  async expire(): Promise<number> {
    const now = this.deps.clock.now().toISOString();
    let count = 0;
    const stale = await paymentStore.expiredCodes(this.deps.db, now, 500);
    for (const p of stale) {
      if (await this.deps.work.run((trx) => this.deps.settlement.fail(trx, p, 'CONFIRMATION_EXPIRED'))) count++;
    }
    for (const orderId of await checkoutStore.dueToExpire(this.deps.db, now, 500)) {
      await this.close(orderId);
      count++;
    }
    return count;
  }
}

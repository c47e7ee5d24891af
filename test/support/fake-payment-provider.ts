import type {
  OrdersSms,
  OrderTrace,
  PaymentEvent,
  PaymentEventAnswer,
  RailsAnswer,
  RefundAnswer,
  RefundRequest,
  RenewalRequest,
  ScanAnswer,
  StartPaymentRequest,
  StartPaymentResult,
  StatementRow,
} from '../../src/contracts/provider-api.ts';
import type { PaymentProvider } from '../../src/backend/core/payment-provider.ts';
import { businessDate } from '../../src/lib/business-day.ts';
import type { Clock } from '../../src/lib/clock.ts';
import { PeerError } from '../../src/lib/http/service-auth.ts';
import { cryptoRandom } from '../../src/lib/ids.ts';

/** A payment the fake took: captured, then perhaps (partly) refunded. */
export interface FakePayment {
  paymentId: string;
  orderId: string;
  attempt: number;
  amountMinor: number;
  currency: string;
  source: 'wallet' | 'card';
  refundedMinor: number;
  completedAt: string;
}

/** What the fake does with a refund the back-end asks for. */
export type RefundOutcome = 'succeeded' | 'failed';

/**
 * A payment server in memory behind the real `PaymentProvider` interface, for tests of the back-end alone.
 * It records what the back-end asks, keeps a wallet per phone, and tells the back-end outcomes the way the
 * payment server does: signed `PaymentEvent`s into its inbox (`/internal/v1/payment-events`), through
 * `connect`'s sender. A test drives payments with `complete` and `fail`; refunds and renewals are answered
 * by the rules the real one follows (a refund within what was captured succeeds, a renewal is charged from
 * the wallet when it covers it, a payment the back-end rejects goes back as a refund of its own).
 */
export class FakePaymentProvider implements PaymentProvider {
  readonly starts: StartPaymentRequest[] = [];
  readonly refunds: RefundRequest[] = [];
  readonly renewals: RenewalRequest[] = [];
  readonly closed: string[] = [];
  readonly ended: Array<{ orderId: string; attempt: number }> = [];
  readonly payments: FakePayment[] = [];
  /** Phones with a quick-pay agreement, and their wallets (minor units). */
  readonly wallets = new Map<string, number>();
  /** Events the back-end refused with an error status (a bug in the back-end, or in the test). */
  readonly refused: Array<{ event: PaymentEvent; error: string }> = [];
  refundOutcome: RefundOutcome = 'succeeded';
  private readonly statementRows: StatementRow[] = [];
  private readonly answered = new Map<string, RefundAnswer>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly held: PaymentEvent[] = [];
  private send?: (event: PaymentEvent) => Promise<PaymentEventAnswer>;

  constructor(private readonly clock: Clock) {}

  /** How events reach the back-end: a signed POST to its inbox. */
  connect(send: (event: PaymentEvent) => Promise<PaymentEventAnswer>): void {
    this.send = send;
  }

  /** Gives a phone (E.164) a quick-pay agreement and a wallet. */
  bind(phone: string, walletMinor = 50_000): void {
    this.wallets.set(phone, walletMinor);
  }

  async isBound(phone: string): Promise<boolean> {
    return this.wallets.has(phone);
  }

  async startPayment(request: StartPaymentRequest): Promise<StartPaymentResult> {
    this.starts.push(request);
    const state = request.mode === 'sms_confirm' ? 'pending_confirmation' : 'awaiting_checkout';
    return { state, failureCode: null };
  }

  async endAttempt(orderId: string, attempt: number): Promise<void> {
    this.ended.push({ orderId, attempt });
  }

  async closeOrder(orderId: string): Promise<void> {
    this.closed.push(orderId);
  }

  /** The newest start the back-end asked for an order (what a payer would confirm). */
  startOf(orderId: string): StartPaymentRequest | undefined {
    return this.starts.filter((s) => s.orderId === orderId).at(-1);
  }

  /**
   * The payer paid the order's newest attempt (`source`: wallet by default, taken from the phone's wallet
   * when it has one). With `tell: false` the message to the back-end is held back (`tellHeld` sends it):
   * only the statement and the trace know. Resolves with the payment and the back-end's answer.
   */
  async complete(
    orderId: string,
    options: { source?: 'wallet' | 'card'; renewalConsent?: boolean; tell?: boolean } = {},
  ): Promise<{ payment: FakePayment; answer?: PaymentEventAnswer }> {
    const start = this.startOf(orderId);
    if (!start) throw new Error(`the back-end never started a payment of ${orderId}`);
    const source = options.source ?? 'wallet';
    if (source === 'wallet') this.take(start.phone, start.amountMinor);
    const payment = this.capture({ ...start, attempt: start.attempt, source });
    const consent = options.renewalConsent ?? (start.renewsEveryDays !== undefined && start.mode === 'sms_confirm');
    if (options.tell === false) {
      this.held.push(this.message(paidEvent(payment, consent ? { renewalConsent: true } : {})));
      return { payment };
    }
    const answer = await this.paid(payment, consent ? { renewalConsent: true } : {});
    return { payment, answer };
  }

  /** Sends the messages `complete` held back, late, as an outbox does once it runs again. */
  async tellHeld(): Promise<PaymentEventAnswer[]> {
    const answers: PaymentEventAnswer[] = [];
    for (const event of this.held.splice(0)) answers.push(await this.deliver(event));
    return answers;
  }

  /** The order's newest attempt failed at the payer's side (declined, expired…). */
  async fail(orderId: string, failureCode = 'PAYMENT_DECLINED'): Promise<PaymentEventAnswer> {
    const start = this.startOf(orderId);
    if (!start) throw new Error(`the back-end never started a payment of ${orderId}`);
    return this.tell({
      type: 'payment.failed',
      orderId,
      attempt: start.attempt,
      paymentId: cryptoRandom.id('pay'),
      amountMinor: start.amountMinor,
      currency: start.currency,
      failureCode,
    });
  }

  /** Answers at once, as the wallet's refunds do; the outcome's event follows, as the outbox sends it. */
  async refund(request: RefundRequest): Promise<RefundAnswer> {
    const prior = this.answered.get(request.refundId);
    if (prior) return prior;
    this.refunds.push(request);
    const payment = this.payments.find((p) => p.paymentId === request.paymentId);
    let failureCode: string | null = null;
    if (!payment || payment.orderId !== request.orderId) failureCode = 'PAYMENT_NOT_FOUND';
    else if (request.amountMinor > payment.amountMinor - payment.refundedMinor) failureCode = 'REFUND_EXCEEDS_PAYMENT';
    else if (this.refundOutcome === 'failed') failureCode = 'REFUND_FAILED';
    const answer: RefundAnswer = { status: failureCode ? 'failed' : 'succeeded', failureCode };
    this.answered.set(request.refundId, answer);
    if (!failureCode) this.giveBack(payment!, request.refundId, request.amountMinor);
    this.later(() => this.refundEvent(request, payment, failureCode));
    return answer;
  }

  /** Charges the payer's wallet at once, as the payment server does under the agreement; the event follows. */
  async renew(request: RenewalRequest): Promise<StartPaymentResult> {
    if (this.renewals.some((r) => r.orderId === request.orderId)) throw new Error('renewal charged twice');
    this.renewals.push(request);
    this.starts.push({ ...request, attempt: 1, mode: 'sms_confirm', linkToken: '' });
    const wallet = this.wallets.get(request.phone);
    if (wallet === undefined || wallet < request.amountMinor) {
      const failureCode = wallet === undefined ? 'NOT_BOUND' : 'INSUFFICIENT_FUNDS';
      this.later(() => this.fail(request.orderId, failureCode));
      return { state: 'failed', failureCode };
    }
    this.take(request.phone, request.amountMinor);
    const payment = this.capture({ ...request, attempt: 1, source: 'wallet' });
    this.later(() => this.paid(payment, {}));
    return { state: 'paid', failureCode: null };
  }

  async trace(orderId: string): Promise<OrderTrace> {
    return {
      payments: this.payments
        .filter((p) => p.orderId === orderId)
        .map((p) => ({
          paymentId: p.paymentId,
          method: 'sms_code',
          status: p.refundedMinor === p.amountMinor ? 'refunded' : 'captured',
          source: p.source,
          amountMinor: p.amountMinor,
          refundedMinor: p.refundedMinor,
          failureCode: null,
          createdAt: p.completedAt,
          completedAt: p.completedAt,
        })),
      sms: [],
    };
  }

  async smsOfOrders(): Promise<OrdersSms> {
    return { items: [] };
  }

  async statement(date: string): Promise<StatementRow[]> {
    return this.statementRows.filter((r) => businessDate(new Date(r.at), 'Asia/Shanghai') === date);
  }

  async rails(): Promise<RailsAnswer> {
    return [];
  }

  async scan(): Promise<ScanAnswer> {
    throw new PeerError(409, { code: 'RAIL_UNAVAILABLE' });
  }

  checkoutUrl(linkToken: string): string {
    return `https://pay.example/pay/${linkToken}`;
  }

  /** Waits until every event the fake sent on its own (refund and renewal outcomes) was answered. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private take(phone: string, amountMinor: number): void {
    const wallet = this.wallets.get(phone);
    if (wallet !== undefined) this.wallets.set(phone, wallet - amountMinor);
  }

  private capture(
    of: { orderId: string; attempt: number; amountMinor: number; currency: string } & Pick<FakePayment, 'source'>,
  ): FakePayment {
    const payment: FakePayment = {
      paymentId: cryptoRandom.id('pay'),
      orderId: of.orderId,
      attempt: of.attempt,
      amountMinor: of.amountMinor,
      currency: of.currency,
      source: of.source,
      refundedMinor: 0,
      completedAt: this.clock.now().toISOString(),
    };
    this.payments.push(payment);
    this.statementRows.push(row('payment', payment, '', payment.amountMinor, payment.completedAt));
    return payment;
  }

  /** Tells the back-end a capture; one it rejects (its order ended) goes back in full, as the real one does. */
  private async paid(payment: FakePayment, extra: { renewalConsent?: boolean }): Promise<PaymentEventAnswer> {
    const answer = await this.tell(paidEvent(payment, extra));
    if (answer.result === 'rejected') {
      const refundId = `rfd_late_${payment.paymentId}`.slice(0, 64);
      this.giveBack(payment, refundId, payment.amountMinor);
      await this.tell(refundMessage('refund.succeeded', payment, refundId, payment.amountMinor, null));
    }
    return answer;
  }

  private giveBack(payment: FakePayment, refundId: string, amountMinor: number): void {
    payment.refundedMinor += amountMinor;
    const phone = this.startOf(payment.orderId)?.phone;
    if (payment.source === 'wallet' && phone) this.take(phone, -amountMinor);
    this.statementRows.push(row('refund', payment, refundId, amountMinor, this.clock.now().toISOString()));
  }

  private refundEvent(request: RefundRequest, payment: FakePayment | undefined, failureCode: string | null) {
    const of = payment ?? { ...request, attempt: 0 };
    const type = failureCode ? 'refund.failed' : 'refund.succeeded';
    return this.tell(refundMessage(type, of, request.refundId, request.amountMinor, failureCode));
  }

  private tell(event: Omit<PaymentEvent, 'messageId' | 'at'>): Promise<PaymentEventAnswer> {
    return this.deliver(this.message(event));
  }

  private message(event: Omit<PaymentEvent, 'messageId' | 'at'>): PaymentEvent {
    return { messageId: cryptoRandom.id('msg'), ...event, at: this.clock.now().toISOString() };
  }

  private async deliver(message: PaymentEvent): Promise<PaymentEventAnswer> {
    if (!this.send) throw new Error('the fake provider is not connected to a back-end');
    try {
      return await this.send(message);
    } catch (err) {
      this.refused.push({ event: message, error: (err as Error).message });
      throw err;
    }
  }

  /** Runs after the current answer went back, as an outbox message would; `idle` waits for it. */
  private later(send: () => Promise<unknown>): void {
    const p: Promise<unknown> = new Promise((resolve) => setImmediate(resolve))
      .then(send)
      .catch(() => undefined)
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }
}

function paidEvent(payment: FakePayment, extra: { renewalConsent?: boolean }): Omit<PaymentEvent, 'messageId' | 'at'> {
  const { orderId, attempt, paymentId, amountMinor, currency, source } = payment;
  return {
    type: 'payment.completed',
    orderId,
    attempt,
    paymentId,
    amountMinor,
    currency,
    failureCode: null,
    source,
    ...extra,
  };
}

function refundMessage(
  type: 'refund.succeeded' | 'refund.failed',
  payment: { orderId: string; attempt: number; paymentId: string; currency: string },
  refundId: string,
  amountMinor: number,
  failureCode: string | null,
): Omit<PaymentEvent, 'messageId' | 'at'> {
  const { orderId, attempt, paymentId, currency } = payment;
  return { type, refundId, orderId, attempt, paymentId, amountMinor, currency, failureCode };
}

function row(
  type: 'payment' | 'refund',
  payment: FakePayment,
  refundId: string,
  amountMinor: number,
  at: string,
): StatementRow {
  const { paymentId, orderId, currency, source } = payment;
  return {
    type,
    payment_id: paymentId,
    refund_id: refundId,
    order_id: orderId,
    amount_minor: amountMinor,
    currency,
    source,
    at,
  };
}

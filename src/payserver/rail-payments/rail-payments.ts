import type { ScanAnswer, ScanRequest } from '../../contracts/provider-api.ts';
import type { Clock } from '../../lib/clock.ts';
import type { UnitOfWork } from '../../lib/db/unit-of-work.ts';
import { crashPoint } from '../../lib/crash-points.ts';
import { isUniqueViolation } from '../../lib/db/unique-violation.ts';
import { DomainError } from '../../lib/errors.ts';
import { sha256, type RandomSource } from '../../lib/ids.ts';
import { RetryLater } from '../../lib/outbox/outbox.ts';
import { checkoutStore, type Checkout } from '../settlement/checkout-store.ts';
import { newPayment, paymentStore, type Payment } from '../settlement/payment-store.ts';
import type { Settlement } from '../settlement/settlement.ts';
import type { PayserverDb, PayserverTables } from '../schema.ts';
import type {
  NotificationAnswer,
  PaidTrade,
  QueryOutcome,
  Rail,
  RailEvent,
  RailName,
  RawNotification,
  StartOutcome,
  StartRequest,
} from '../rails/rail.ts';
import type { RailRegistry } from '../rails/registry.ts';
import { railTradeStore, type RailTrade } from '../settlement/rail-trade-store.ts';
import { RAIL_CHARGE_TOPIC } from '../rails/rail-topics.ts';
import type { Agreements } from '../agreements/agreements.ts';
import { agreementStore } from '../agreements/agreement-store.ts';
import { enqueue } from '../outbox.ts';

/**
 * How soon after a trade starts the sweeper first asks about it, and how often after: a lost notification settles
 * within 60 s.
 */
const FIRST_QUERY_MS = 10_000;
const QUERY_EVERY_MS = 15_000;
/** How long past its expiry an unsettled trade is still asked about (a payment made at the last moment). */
const QUERY_AFTER_EXPIRY_MS = 10 * 60_000;
/** At most this many trades asked about per sweep, so one pass never holds the sweeper long. */
const SWEEP_BATCH = 50;

/**
 * What a provider is told of a notification that was verified but matches nothing of ours: not success, so it retries
 * or gives up.
 */
const UNMATCHED_ANSWER: NotificationAnswer = {
  status: 400,
  contentType: 'application/json; charset=utf-8',
  body: JSON.stringify({ code: 'FAIL', message: 'unmatched' }),
};

export type ApplyResult = 'applied' | 'duplicate' | 'unmatched';

/** What RailPayments is built from. */
export interface RailPaymentsDeps {
  db: PayserverDb;
  rails: RailRegistry;
  settlement: Settlement;
  random: RandomSource;
  clock: Clock;
  /** Its transactions, which wake the outbox workers once they have committed. */
  work: UnitOfWork<PayserverTables>;
  /** Applies a verified refund event of a rail (refunds are the refunds service's). */
  onRefundEvent?: (rail: RailName, event: Extract<RailEvent, { type: `refund.${string}` }>) => Promise<ApplyResult>;
  /** The phones' agreements at the rails: signed from the page, charged after a code reply or at a renewal. */
  agreements: Pick<Agreements, 'newExternalNo' | 'signing' | 'activeByExternalNo' | 'onEvent'>;
}

/**
 * Payments through the money rails (API "Real money rails"): a trade per attempt, recorded before it is
 * started at the rail; what the rail answers, notifies or says when asked moves it forward, and a trade
 * found paid settles through the same Settlement as the wallet's (the order's checkout row is its one
 * lock). An outcome not learnt is asked about again (`query`), never charged again.
 */
export class RailPayments {
  constructor(private readonly deps: RailPaymentsDeps) {}

  /**
   * The QR code a TV shows for an order and a rail: the same while it can be scanned, else a new trade
   * (`precreate` / `native`). Makes the order's checkout row if no payer attempt has yet.
   */
  async scan(req: ScanRequest): Promise<ScanAnswer> {
    const rail = this.deps.rails.require(req.rail);
    const now = this.deps.clock.now();
    const made = await this.deps.work.run(async (trx) => {
      await checkoutStore.ensure(trx, { ...req, linkTokenHash: sha256(this.deps.random.token()), phone: '', now });
      const checkout = this.payable(await checkoutStore.byOrder(trx, req.orderId), now);
      const live = await railTradeStore.liveQr(trx, req.orderId, rail.name, now.toISOString());
      if (live) return { live };
      return { trade: await this.openTrade(trx, checkout, rail.name, 'qr', ''), checkout };
    });
    if (made.live) return { rail: rail.name, qrText: made.live.qr_text!, expiresAt: made.live.expires_at };
    const outcome = await this.start(rail, made.trade, { kind: 'qr' }, made.checkout.product_title);
    if (outcome.state !== 'qr')
      throw new DomainError('RAIL_UNAVAILABLE', `${rail.title.en} did not give a QR code; try again in a moment.`);
    return { rail: rail.name, qrText: outcome.qrText, expiresAt: made.trade.expires_at };
  }

  /**
   * Starts a trade on the rail's payment page for the checkout page's payer: the URL to redirect to.
   * `returnUrl` brings the payer back to the checkout page, which then asks about the trade.
   */
  async startPage(
    checkout: Checkout,
    railName: string,
    page: { returnUrl: string; payerClientIp: string; sign?: boolean },
  ): Promise<string> {
    const rail = this.deps.rails.require(railName);
    if (page.sign && !rail.agreements)
      throw new DomainError('RAIL_AGREEMENTS_UNAVAILABLE', `${rail.title.en} takes no quick-pay agreements here.`);
    const now = this.deps.clock.now();
    const externalNo = page.sign ? this.deps.agreements.newExternalNo() : undefined;
    const trade = await this.deps.work.run(async (trx) => {
      const fresh = this.payable(await checkoutStore.byOrder(trx, checkout.order_id), now);
      const opened = await this.openTrade(trx, fresh, rail.name, 'redirect', fresh.phone);
      if (externalNo)
        await this.deps.agreements.signing(trx, {
          externalNo,
          rail: rail.name,
          phone: fresh.phone,
          paymentId: opened.payment_id,
        });
      return opened;
    });
    const how = {
      kind: 'redirect' as const,
      returnUrl: page.returnUrl,
      payerClientIp: page.payerClientIp,
      ...(externalNo ? { sign: { externalAgreementNo: externalNo, phone: checkout.phone } } : {}),
    };
    const outcome = await this.start(rail, trade, how, checkout.product_title);
    if (outcome.state !== 'redirect')
      throw new DomainError('RAIL_UNAVAILABLE', `${rail.title.en} did not open its payment page; try again.`);
    return outcome.url;
  }

  /** The open checkout of an order, refusing one that ended, was paid or is not in a currency the rails take. */
  private payable(checkout: Checkout | undefined, now: Date): Checkout {
    if (!checkout || checkout.status !== 'open' || checkout.expires_at <= now.toISOString())
      throw new DomainError(
        'ORDER_FINAL',
        checkout?.status === 'paid' ? 'The order is already paid.' : 'The order has ended.',
      );
    if (checkout.currency !== 'CNY')
      throw new DomainError('CURRENCY_UNSUPPORTED', `The rails take CNY only; the order is in ${checkout.currency}.`);
    return checkout;
  }

  /** Records a new trade and the payment it would make, before anything is asked of the rail. */
  private async openTrade(
    trx: PayserverDb,
    checkout: Checkout,
    rail: RailName,
    kind: RailTrade['kind'],
    phone: string,
  ): Promise<RailTrade> {
    const now = this.deps.clock.now();
    const paymentId = this.deps.random.id('pay');
    await paymentStore.insert(
      trx,
      newPayment({
        id: paymentId,
        order_id: checkout.order_id,
        attempt: checkout.attempt,
        method: kind === 'qr' ? 'scan' : 'rail_page',
        phone,
        source: rail,
        amount_minor: Number(checkout.amount_minor),
        currency: checkout.currency,
        status: 'pending',
        created_at: now.toISOString(),
      }),
    );
    const trade = this.tradeOf(rail, kind, { ...checkout, id: paymentId });
    await railTradeStore.insert(trx, trade);
    return trade;
  }

  /** A new trade's row for a payment, in `created`, first asked about FIRST_QUERY_MS after it starts. */
  private tradeOf(
    rail: RailName,
    kind: RailTrade['kind'],
    p: { id: string; order_id: string; amount_minor: number; currency: string; expires_at: string },
  ): RailTrade {
    const now = this.deps.clock.now();
    return {
      // Letters and digits only, 26 characters: within both rails' rules for out_trade_no.
      out_trade_no: `tv${sha256(this.deps.random.token()).slice(0, 24)}`,
      rail,
      payment_id: p.id,
      order_id: p.order_id,
      kind,
      state: 'created',
      provider_trade_no: null,
      qr_text: null,
      amount_minor: Number(p.amount_minor),
      currency: p.currency,
      expires_at: p.expires_at,
      created_at: now.toISOString(),
      updated_at: now.toISOString(),
      next_check_at: new Date(now.getTime() + FIRST_QUERY_MS).toISOString(),
    };
  }

  /**
   * In the caller's transaction (the reply whose code matched, a renewal): a trade that charges a payment
   * under its agreement, asked of the rail through the outbox once this commits. Nothing is asked of the
   * rail here, so the commit decides whether the charge is ever made.
   */
  async openAgreementCharge(trx: PayserverDb, payment: Payment, expiresAt: string): Promise<void> {
    const rail = railOfSource(payment.source);
    if (!rail || !payment.external_agreement_no) throw new Error(`payment ${payment.id} is not under an agreement`);
    const trade = this.tradeOf(rail, 'agreement_charge', { ...payment, expires_at: expiresAt });
    await railTradeStore.insert(trx, trade);
    const now = this.deps.clock.now();
    await enqueue(trx, {
      id: this.deps.random.id('obx'),
      topic: RAIL_CHARGE_TOPIC,
      payload: { outTradeNo: trade.out_trade_no },
      now,
    });
  }

  /**
   * The outbox's charge under an agreement (`alipay.trade.pay` GENERAL_WITHHOLDING, papay apply). The trade
   * is first claimed (`created → unknown`, committed), so it is asked of the rail at most once: a crash or
   * a time-out after the claim is settled by `query`, never by charging again.
   */
  async charge({ outTradeNo }: { outTradeNo: string }): Promise<void> {
    const trade = await railTradeStore.byOutTradeNo(this.deps.db, outTradeNo);
    if (trade?.state !== 'created' || trade.kind !== 'agreement_charge') return;
    const payment = (await paymentStore.byId(this.deps.db, trade.payment_id)) as Payment;
    const rail = this.deps.rails.get(trade.rail);
    const agreement = payment.external_agreement_no
      ? await this.deps.agreements.activeByExternalNo(this.deps.db, payment.external_agreement_no)
      : undefined;
    if (!rail || !agreement?.agreement_no)
      return this.chargeRefused(
        trade,
        payment,
        rail ? 'NOT_BOUND' : 'RAIL_UNAVAILABLE',
        'the agreement or rail is gone',
      );
    const at = this.deps.clock.now().toISOString();
    if (!(await this.deps.work.run((trx) => railTradeStore.move(trx, outTradeNo, 'unknown', at)))) return;
    const labels = await checkoutStore.labelsOf(this.deps.db, trade.order_id);
    const how = { kind: 'agreement_charge' as const, agreementNo: agreement.agreement_no };
    await this.start(rail, trade, how, labels?.product_title ?? '');
  }

  /**
   * A charge under an agreement that cannot be made or was refused: the payment fails, the back-end and the phone are
   * told.
   */
  private async chargeRefused(trade: RailTrade, payment: Payment, code: string, why: string): Promise<void> {
    const now = this.deps.clock.now();
    const failed = await this.deps.work.run(async (trx) => {
      if (!(await railTradeStore.move(trx, trade.out_trade_no, 'failed', now.toISOString()))) return false;
      await this.deps.settlement.failAndTellPhone(trx, payment, code);
      return true;
    });
    await railTradeStore.log(this.deps.db, this.deps.random, {
      outTradeNo: trade.out_trade_no,
      at: now,
      what: 'charge',
      outcome: failed ? `failed: ${code} (${why})` : `not charged (was ${trade.state})`,
    });
  }

  /** Starts a recorded trade at its rail and records what it answered. */
  private async start(
    rail: Rail,
    trade: RailTrade,
    how:
      | { kind: 'qr' }
      | { kind: 'redirect'; returnUrl: string; payerClientIp: string }
      | { kind: 'agreement_charge'; agreementNo: string },
    subject: string,
  ): Promise<StartOutcome> {
    const request = {
      ...how,
      outTradeNo: trade.out_trade_no,
      amountMinor: Number(trade.amount_minor),
      currency: 'CNY' as const,
      subject,
      expiresAt: new Date(trade.expires_at),
    } as StartRequest;
    let outcome: StartOutcome;
    try {
      outcome = await rail.start(request);
    } catch (err) {
      // A bug of the rail's: the trade stays `created` and the sweeper asks about it.
      outcome = { state: 'unknown', reason: `error: ${(err as Error).message}` };
    }
    await this.recordStart(trade, outcome);
    return outcome;
  }

  private async recordStart(trade: RailTrade, outcome: StartOutcome): Promise<void> {
    const now = this.deps.clock.now();
    const at = now.toISOString();
    const no = trade.out_trade_no;
    await railTradeStore.log(this.deps.db, this.deps.random, {
      outTradeNo: no,
      at: now,
      what: 'start',
      outcome: describeStart(outcome),
    });
    if (outcome.state === 'paid') return void (await this.settlePaid(trade.rail, outcome.paid, 'start'));
    await this.deps.work.run(async (trx) => {
      if (outcome.state === 'qr') await railTradeStore.move(trx, no, 'qr', at, { qr_text: outcome.qrText });
      else if (outcome.state === 'redirect') await railTradeStore.move(trx, no, 'redirected', at);
      else if (outcome.state === 'charging') await railTradeStore.move(trx, no, 'charging', at);
      else if (outcome.state === 'unknown') await railTradeStore.move(trx, no, 'unknown', at);
      else if (await railTradeStore.move(trx, no, 'failed', at)) await this.failPayment(trx, trade, outcome.code);
    });
  }

  /**
   * The payment of a trade that failed at its rail. A charge under an agreement was the payer's one attempt
   * (they replied the code, or it is their renewal): the back-end and the phone are told. A scan or page
   * trade is one of several ways the order may still be paid: it ends quietly.
   */
  private async failPayment(trx: PayserverDb, trade: RailTrade, code: string): Promise<void> {
    const payment = await paymentStore.byId(trx, trade.payment_id);
    if (!payment) return;
    if (trade.kind === 'agreement_charge') await this.deps.settlement.failAndTellPhone(trx, payment, code);
    else
      await paymentStore.move(trx, payment.id, 'failed', this.deps.clock.now().toISOString(), { failure_code: code });
  }

  /**
   * A trade the rail says is paid (notified, queried, or answered at once): matched by its number, rail
   * and amount, then applied once: the trade moves to `paid` from an open state in the same transaction
   * as the capture, and the rail's trade number is unique. Anything that does not match changes nothing.
   */
  async settlePaid(railName: RailName, paid: PaidTrade, via: string): Promise<ApplyResult> {
    const now = this.deps.clock.now();
    const trade = await railTradeStore.byOutTradeNo(this.deps.db, paid.outTradeNo);
    if (!trade || trade.rail !== railName) return 'unmatched';
    const log = (outcome: string) =>
      railTradeStore.log(this.deps.db, this.deps.random, {
        outTradeNo: trade.out_trade_no,
        at: now,
        what: via,
        outcome,
      });
    if (paid.amountMinor !== Number(trade.amount_minor)) {
      await log(`refused: paid ${paid.amountMinor}, the trade is for ${Number(trade.amount_minor)}`);
      return 'unmatched';
    }
    try {
      const applied = await this.deps.work.run(async (trx) => {
        const at = now.toISOString();
        if (
          !(await railTradeStore.move(trx, trade.out_trade_no, 'paid', at, { provider_trade_no: paid.providerTradeNo }))
        )
          return false;
        const payment = (await paymentStore.byId(trx, trade.payment_id)) as Payment;
        await this.deps.settlement.capture(trx, payment, { renewalConsent: await consentedToRenewals(trx, payment) });
        crashPoint('payserver.rail-paid-before-commit');
        return true;
      });
      if (!applied) return this.alreadySettled(trade.out_trade_no, paid, log);
      await log(`paid (${paid.providerTradeNo})`);
      return 'applied';
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      await log(`refused: ${paid.providerTradeNo} is already another trade's`);
      return 'unmatched';
    }
  }

  /**
   * A paid report for a trade that was already final: the same payment again, or one that contradicts what is known.
   */
  private async alreadySettled(
    outTradeNo: string,
    paid: PaidTrade,
    log: (outcome: string) => Promise<void>,
  ): Promise<ApplyResult> {
    const now = await railTradeStore.byOutTradeNo(this.deps.db, outTradeNo);
    if (now?.state === 'paid' && now.provider_trade_no === paid.providerTradeNo) {
      await log('paid again (already applied)');
      return 'duplicate';
    }
    await log(`refused: paid reported for a trade that is ${now?.state}`);
    return 'unmatched';
  }

  /** A trade that can no longer take money: closed, and its payment released (it never took any). */
  async markClosed(outTradeNo: string, via: string): Promise<ApplyResult> {
    const now = this.deps.clock.now();
    const trade = await railTradeStore.byOutTradeNo(this.deps.db, outTradeNo);
    if (!trade) return 'unmatched';
    const moved = await this.deps.work.run(async (trx) => {
      const at = now.toISOString();
      if (!(await railTradeStore.move(trx, outTradeNo, 'closed', at))) return false;
      // A charge under an agreement that the rail closed by itself (WeChat Pay's PAYERROR) was refused; one
      // that tvpay closed because its order ended is released like any other trade.
      if (trade.kind === 'agreement_charge' && via !== 'close') await this.failPayment(trx, trade, 'RAIL_REFUSED');
      else await paymentStore.move(trx, trade.payment_id, 'released', at, { failure_code: 'RAIL_CLOSED' });
      return true;
    });
    await railTradeStore.log(this.deps.db, this.deps.random, {
      outTradeNo,
      at: now,
      what: via,
      outcome: moved ? 'closed' : `closed again (was ${trade.state})`,
    });
    return moved ? 'applied' : 'duplicate';
  }

  /**
   * One notification: verified by the rail over the raw bytes, then matched and applied once. The provider
   * is told what the rail says for a verified, matched event; anything else changes nothing and is not success.
   */
  async notification(railName: RailName, raw: RawNotification): Promise<NotificationAnswer> {
    const rail = this.deps.rails.require(railName);
    const verdict = await rail.parseNotification(raw);
    if (!verdict.ok) return verdict.answer;
    const result = await this.applyEvent(rail.name, verdict.event);
    return result === 'unmatched' ? UNMATCHED_ANSWER : verdict.answer;
  }

  private async applyEvent(rail: RailName, event: RailEvent): Promise<ApplyResult> {
    switch (event.type) {
      case 'trade.paid':
        return this.settlePaid(rail, event.paid, 'notification');
      case 'trade.closed': {
        const trade = await railTradeStore.byOutTradeNo(this.deps.db, event.outTradeNo);
        return trade?.rail === rail ? this.markClosed(event.outTradeNo, 'notification') : 'unmatched';
      }
      case 'refund.succeeded':
      case 'refund.failed':
        return this.deps.onRefundEvent ? this.deps.onRefundEvent(rail, event) : 'unmatched';
      case 'agreement.signed':
      case 'agreement.ended':
        return this.deps.agreements.onEvent(rail, event);
    }
  }

  /** The payer is back from a rail's page: the order's page trades still open are asked about at once. */
  async returned(orderId: string): Promise<void> {
    for (const trade of await railTradeStore.openOfOrder(this.deps.db, orderId))
      if (trade.kind === 'redirect') await this.check(trade);
  }

  /**
   * Asks the rails about the trades due (created, shown, redirected, charging or unknown and not settled),
   * at most SWEEP_BATCH a pass, on the injected clock: a paid one settles as a notification would.
   */
  async sweep(): Promise<number> {
    const now = this.deps.clock.now();
    let settled = 0;
    for (const trade of await railTradeStore.dueForQuery(this.deps.db, now.toISOString(), SWEEP_BATCH)) {
      if ((await this.check(trade)) === 'applied') settled++;
    }
    return settled;
  }

  /** Asks the rail about one trade and applies what it says; schedules the next question while it stays open. */
  async check(trade: RailTrade): Promise<ApplyResult | 'open'> {
    const rail = this.deps.rails.get(trade.rail);
    const now = this.deps.clock.now();
    if (!rail) return 'open';
    let outcome: QueryOutcome;
    try {
      outcome = await rail.query(trade.out_trade_no);
    } catch (err) {
      outcome = { state: 'unknown', reason: `error: ${(err as Error).message}` };
    }
    await railTradeStore.log(this.deps.db, this.deps.random, {
      outTradeNo: trade.out_trade_no,
      at: now,
      what: 'query',
      outcome: describeQuery(outcome),
    });
    if (outcome.state === 'paid' || outcome.state === 'refunded')
      return this.settlePaid(trade.rail, outcome.paid, 'query');
    if (outcome.state === 'closed') return this.markClosed(trade.out_trade_no, 'query');
    const giveUpAt = Date.parse(trade.expires_at) + QUERY_AFTER_EXPIRY_MS;
    const next = now.getTime() + QUERY_EVERY_MS;
    await railTradeStore.checkAgainAt(this.deps.db, trade.out_trade_no, next > giveUpAt ? null : iso(next));
    return 'open';
  }

  /**
   * The outbox's close of a trade whose order ended or was paid another way. `closed` (or a trade the
   * rail never had) ends it; `paid` settles it, which refunds it in full as its order is no longer open;
   * an unknown answer is asked again later.
   */
  async close({ outTradeNo }: { outTradeNo: string }): Promise<void> {
    const trade = await railTradeStore.byOutTradeNo(this.deps.db, outTradeNo);
    if (!trade || !['created', 'unknown', 'qr', 'redirected', 'charging'].includes(trade.state)) return;
    const rail = this.deps.rails.get(trade.rail);
    const later = (why: string) => new RetryLater(new Date(this.deps.clock.now().getTime() + QUERY_EVERY_MS), why);
    if (!rail) throw later(`the rail ${trade.rail} is off`);
    const outcome = await rail.close(outTradeNo);
    await railTradeStore.log(this.deps.db, this.deps.random, {
      outTradeNo,
      at: this.deps.clock.now(),
      what: 'close',
      outcome: outcome.state === 'unknown' ? `unknown: ${outcome.reason}` : outcome.state,
    });
    if (outcome.state === 'closed') return void (await this.markClosed(outTradeNo, 'close'));
    if (outcome.state === 'unknown') throw later(outcome.reason);
    const checked = await this.check(trade);
    if (checked === 'open') throw later('the rail says paid, its query does not yet');
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

const railOfSource = (source: Payment['source']): RailName | null =>
  source === 'alipay' || source === 'wechatpay' ? source : null;

/**
 * Whether capturing this payment carries the payer's consent to a renewing product's renewals: a code they
 * replied (the SMS said so), or a page payment on which they ticked quick pay (an agreement was asked for).
 */
async function consentedToRenewals(trx: PayserverDb, payment: Payment): Promise<boolean> {
  if (payment.method === 'sms_code') return true;
  return payment.method === 'rail_page' && (await agreementStore.ofPayment(trx, payment.id)) !== undefined;
}

/** A start's outcome for the trade's log: states and the rail's codes, never a URL's signature or a secret. */
function describeStart(o: StartOutcome): string {
  if (o.state === 'failed') return `failed: ${o.code} (${o.providerCode}) ${o.message}`;
  if (o.state === 'unknown') return `unknown: ${o.reason}`;
  if (o.state === 'paid') return `paid (${o.paid.providerTradeNo})`;
  return o.state;
}

function describeQuery(o: QueryOutcome): string {
  if (o.state === 'unknown') return `unknown: ${o.reason}`;
  if (o.state === 'paid' || o.state === 'refunded') return `${o.state} (${o.paid.providerTradeNo})`;
  return o.state;
}

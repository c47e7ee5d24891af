import { crashPoint } from '../../lib/crash-points.ts';
import type { UnitOfWork } from '../../lib/db/unit-of-work.ts';
import type { Clock } from '../../lib/clock.ts';
import type { RateLimiter, RateRule } from '../../lib/rate-limiter.ts';
import { DomainError } from '../../lib/errors.ts';
import { normalizePhone } from '../../lib/phone.ts';
import { isCancelReply, parseReplyCode } from '../../sms/reply-parser.ts';
import type { SmsBudget } from '../../sms/sms-budget.ts';
import { replyAnswerSms, type Locale, type ReplyAnswer } from '../../sms/templates.ts';
import { railOf, tellBackend } from '../settlement/settlement.ts';
import { checkoutStore } from '../settlement/checkout-store.ts';
import type { Payment } from '../settlement/payment-store.ts';
import type { RailPayments } from '../rail-payments/rail-payments.ts';
import { topic } from '../../lib/outbox/outbox.ts';
import { enqueue, queueText } from '../outbox.ts';
import type { RandomSource } from '../../lib/ids.ts';

export interface ReplyOptions {
  codeKey: string;
  regions: readonly string[];
  maxWrongCodes: number;
  codeChecksPerPhone: RateRule;
  /** Answers to replies that confirmed nothing, per phone and window (each is an SMS). */
  answersPerPhone: RateRule;
  locale: Locale;
  payee: string;
  smsFrom: string;
}

/** A phone replied TD (取消, 退订…): the back-end, which holds the subscriptions, cancels and answers it. */
export const CANCEL_REPLY_TOPIC = topic<{ phone: string }>('subscriptions.cancel-reply');
import type { Settlement } from '../settlement/settlement.ts';
import type { PayserverDb, PayserverTables } from '../schema.ts';
import { codeHash } from './code-hash.ts';
import { paymentStore } from '../settlement/payment-store.ts';

export type ReplyOutcome =
  | 'cancel_requested'
  | 'captured'
  /** The code of a payment under a rail's agreement: the rail is asked to charge it (its answer settles it). */
  | 'charging'
  | 'order_closed'
  | 'wrong_code'
  | 'confirmation_failed'
  | 'too_many_replies'
  | 'no_code'
  | 'no_pending'
  | 'unknown_sender';

/** What a replied code came to, and the fewest tries left of the payments it was wrong for. */
interface CheckResult {
  outcome: ReplyOutcome;
  triesLeft: number | undefined;
}

/** What ReplyService is built from. */
export interface ReplyServiceDeps {
  db: PayserverDb;
  settlement: Settlement;
  limiter: RateLimiter;
  clock: Clock;
  options: ReplyOptions;
  /** Its transactions, which wake the outbox workers once they have committed. */
  work: UnitOfWork<PayserverTables>;
  random: RandomSource;
  budget: SmsBudget;
  /** Charges a confirmed payment under its rail agreement, in the reply's transaction (asked of the rail after it). */
  railCharges: Pick<RailPayments, 'openAgreementCharge'>;
}

/**
 * Takes a phone's SMS reply (claim 3): finds the pending payment whose code
 * it carries and captures it; a wrong code counts against every pending
 * payment of the phone, and the fifth wrong one fails the payment
 * (CONFIRMATION_FAILED) and releases its hold.
 *
 * Every check is counted before it is made, in the same transaction, by
 * conditional updates: each pending payment gives up one of its tries
 * (`wrong_replies < max`), and the phone gives up one code check per pending
 * code from its own window (`codeChecksPerPhone`), so a burst of replies, or
 * many pending payments for one phone, cannot test more codes than that. A
 * reply that matches gives its checks back.
 */
export class ReplyService {
  constructor(private readonly deps: ReplyServiceDeps) {}

  async handle(from: string, text: string): Promise<ReplyOutcome> {
    let phone: string;
    try {
      phone = normalizePhone(from, this.deps.options.regions);
    } catch (err) {
      if (err instanceof DomainError) return 'unknown_sender';
      throw err;
    }
    if (isCancelReply(text)) return this.cancelRequested(phone);
    const code = parseReplyCode(text);
    if (!code) {
      await this.answer(phone, 'no_code');
      return 'no_code';
    }
    const { outcome, triesLeft } = await this.deps.work.run((trx) => this.check(trx, phone, code));
    if (outcome === 'captured') crashPoint('payserver.after-capture');
    if (
      outcome === 'wrong_code' ||
      outcome === 'confirmation_failed' ||
      outcome === 'order_closed' ||
      outcome === 'no_pending'
    )
      await this.answer(phone, outcome, triesLeft);
    return outcome;
  }

  /** A cancel reply (TD): the back-end, which holds the subscriptions, is told after the commit. */
  private async cancelRequested(phone: string): Promise<ReplyOutcome> {
    await this.deps.work.run((trx) =>
      enqueue(trx, {
        id: this.deps.random.id('obx'),
        topic: CANCEL_REPLY_TOPIC,
        payload: { phone },
        now: this.deps.clock.now(),
      }),
    );
    return 'cancel_requested';
  }

  /**
   * A replied code checked against the phone's pending payments, within the phone's limit, in the reply's transaction.
   */
  private async check(trx: PayserverDb, phone: string, code: string): Promise<CheckResult> {
    const now = this.deps.clock.now().toISOString();
    // Every pending code's try is taken in the one statement that finds them; those not checked get it back.
    let tried = await paymentStore.takeTries(trx, phone, now, this.deps.options.maxWrongCodes);
    if (tried.length === 0) return { outcome: 'no_pending', triesLeft: undefined };
    const bucket = `code-checks:${phone}`;
    const rule = this.deps.options.codeChecksPerPhone;
    // All pending codes if the phone's window allows, else only the newest (the one most likely replied to).
    let checks = tried.length;
    if (!(await this.deps.limiter.take(trx, bucket, rule, checks))) {
      const newest = await this.deps.limiter.take(trx, bucket, rule, 1);
      await paymentStore.giveBackTry(
        trx,
        (newest ? tried.slice(1) : tried).map((p) => p.id),
      );
      if (!newest) return { outcome: 'too_many_replies', triesLeft: undefined };
      checks = 1;
      tried = tried.slice(0, 1);
    }
    const match = tried.find(
      (p) =>
        p.code_hash ===
        codeHash(this.deps.options.codeKey, { id: p.id, amountMinor: Number(p.amount_minor), phone: p.phone }, code),
    );
    if (!match) return this.wrongCode(trx, tried);
    // A right code was no wrong try, for the phone or for the other payments it was checked against.
    await this.deps.limiter.giveBack(trx, bucket, rule, checks);
    await paymentStore.giveBackTry(
      trx,
      tried.map((p) => p.id),
    );
    if (railOf(match)) return { outcome: await this.confirmRailCharge(trx, match), triesLeft: undefined };
    // Replying the code of a renewing product is the consent to its renewals (the SMS said so).
    const captured = await this.deps.settlement.capture(trx, match, { renewalConsent: true });
    return { outcome: captured ? 'captured' : 'order_closed', triesLeft: undefined };
  }

  /** A code that matched none of the payments tried: each fails at its last try, else the TV is told the tries left. */
  private async wrongCode(trx: PayserverDb, tried: Payment[]): Promise<CheckResult> {
    let failed = false;
    let triesLeft: number | undefined;
    for (const p of tried) {
      if (p.wrong_replies >= this.deps.options.maxWrongCodes)
        failed = (await this.deps.settlement.fail(trx, p, 'CONFIRMATION_FAILED')) || failed;
      else {
        // The TV shows the tries left.
        const left = this.deps.options.maxWrongCodes - p.wrong_replies;
        triesLeft = triesLeft === undefined ? left : Math.min(triesLeft, left);
        await tellBackend(trx, this.deps.random, this.deps.clock.now(), {
          type: 'payment.code_rejected',
          orderId: p.order_id,
          attempt: p.attempt,
          paymentId: p.id,
          amountMinor: Number(p.amount_minor),
          currency: p.currency,
          failureCode: null,
          triesLeft: left,
        });
      }
    }
    return { outcome: failed ? 'confirmation_failed' : tried.length ? 'wrong_code' : 'no_pending', triesLeft };
  }

  /**
   * The code of a payment under a rail's agreement matched: the code stops working and the charge is
   * queued in this transaction, unless the order ended meanwhile (then the payment is released: no charge).
   */
  private async confirmRailCharge(trx: PayserverDb, payment: Payment): Promise<ReplyOutcome> {
    if (!(await paymentStore.confirmCode(trx, payment.id))) return 'no_pending';
    const checkout = await checkoutStore.byOrder(trx, payment.order_id);
    if (checkout?.status !== 'open') {
      await this.deps.settlement.release(trx, payment, 'ORDER_CLOSED');
      return 'order_closed';
    }
    await this.deps.railCharges.openAgreementCharge(trx, payment, checkout.expires_at);
    return 'charging';
  }

  /**
   * Answers a reply that confirmed nothing, so the payer is never left in
   * silence: within a per-phone limit and the day's SMS budget, so replying
   * cannot be used to make tvpay send SMS without end.
   */
  private async answer(phone: string, kind: ReplyAnswer, triesLeft?: number): Promise<void> {
    const { locale, payee, smsFrom, answersPerPhone } = this.deps.options;
    await this.deps.work.run(async (trx) => {
      if (!(await this.deps.limiter.take(trx, `reply-answers:${phone}`, answersPerPhone, 1))) return;
      if (!(await this.deps.budget.take(trx))) return;
      await queueText(trx, this.deps.random, {
        kind: 'reply-answer',
        to: phone,
        from: smsFrom,
        text: replyAnswerSms(locale, kind, { payee, ...(triesLeft === undefined ? {} : { triesLeft }) }),
        now: this.deps.clock.now(),
      });
    });
  }
}

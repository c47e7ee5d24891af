import { quickPayOnSms, type Locale, type PaySource } from '../../sms/templates.ts';
import { isUniqueViolation } from '../../lib/db/unique-violation.ts';
import { DomainError } from '../../lib/errors.ts';
import { sha256 } from '../../lib/ids.ts';
import { queueSms, queueText } from '../outbox.ts';
import { codeHash } from '../confirmations/code-hash.ts';
import { POSSESSION_SMS_TOPIC } from '../confirmations/code-topics.ts';
import { accountStore } from '../accounts/account-store.ts';
import { newPayment, paymentStore } from '../settlement/payment-store.ts';
import type { PaymentParts } from '../payments/payments-service.ts';
import { receiptLabels } from '../settlement/receipts.ts';
import { refundStore } from '../refunds/refund-store.ts';
import { lateRefundId } from '../refunds/refunds-service.ts';
import { checkoutStore, type Checkout } from '../settlement/checkout-store.ts';
import { codeSendBuckets, type CodeSendRules } from '../confirmations/code-send-limits.ts';
import type { PayserverDb, PayserverTables } from '../schema.ts';

/** How long a proven phone may take to choose how to pay. */
const GRANT_TTL_MS = 15 * 60 * 1000;

export type { Checkout } from '../settlement/checkout-store.ts';

export interface PayOptions {
  wallet: { availableMinor: number } | null;
  card: { last4: string; availableMinor: number } | null;
  quickPay: boolean;
}

export interface CheckoutOptions extends CodeSendRules {
  codeKey: string;
  maxWrongCodes: number;
  smsFrom: string;
  locale: Locale;
}

/** What the merchant refunded of a paid checkout, and where it went (the source it was paid from). */
export interface MerchantRefund {
  amountMinor: number;
  currency: string;
  refundedAt: string;
  source: PaySource;
  cardLast4: string | null;
}

/** How long a page payment waits for the merchant's verdict before it answers "confirming". */
const VERDICT_WAIT_MS = 5000;

/** What the page shows after paying: the checkout as it is now, and whether the verdict is still out. */
export interface PayOutcome {
  checkout: Checkout;
  confirming: boolean;
}

/** What CheckoutService is built from. */
export interface CheckoutServiceDeps extends PaymentParts {
  options: CheckoutOptions;
  /** Delivers an outbox message now; resolves whether it was delivered. */
  deliverNow?: (messageId: string) => Promise<boolean>;
}

/**
 * The phone checkout page's logic (the WAP payment of claim 1's unbound
 * branch, open to bound users too): the holder proves possession of the
 * number with a code sent to it, then pays from the wallet or the card in one
 * transaction that reserves, captures and marks the order paid, and may agree
 * to quick pay for next time.
 */
export class CheckoutService {
  constructor(private readonly deps: CheckoutServiceDeps) {}

  /** The checkout behind a link token; 404 for an unknown token, revealing nothing else. */
  async find(linkToken: string): Promise<Checkout> {
    const checkout = await checkoutStore.byLinkTokenHash(this.deps.db, sha256(linkToken));
    if (!checkout) throw new DomainError('CHECKOUT_NOT_FOUND', 'This payment link is not valid.');
    return checkout;
  }

  isPayable(checkout: Checkout): boolean {
    return checkout.status === 'open' && checkout.expires_at > this.deps.clock.now().toISOString();
  }

  /** Sends a possession code to the order's phone; returns the page session that will verify it. */
  async sendCode(linkToken: string): Promise<string> {
    const checkout = await this.payable(linkToken);
    const sessionId = this.deps.random.id('ps');
    const now = this.deps.clock.now();
    await this.deps.work.run(async (trx) => {
      const over = await this.deps.limiter.count(
        trx,
        codeSendBuckets(checkout.phone, checkout.device_id, this.deps.options),
      );
      if (over) throw this.deps.limiter.refusal(over);
      if (!(await this.deps.budget.take(trx))) throw this.deps.budget.refusal();
      await checkoutStore.insertSession(trx, {
        id: sessionId,
        order_id: checkout.order_id,
        phone: checkout.phone,
        code_hash: null,
        code_expires_at: null,
        wrong_tries: 0,
        grant_hash: null,
        verified_at: null,
        created_at: now.toISOString(),
      });
      await queueSms(
        trx,
        this.deps.random,
        { kind: 'possession', to: checkout.phone, from: this.deps.options.smsFrom, now, ref: sessionId },
        { topic: POSSESSION_SMS_TOPIC, payload: (smsId) => ({ sessionId, smsId }) },
      );
    });
    return sessionId;
  }

  /**
   * Checks the possession code; returns a grant (a secret for this page only)
   * to pay with. Each check first takes one of the session's tries in a single
   * conditional UPDATE, so a burst of guesses sent at once gets no more than
   * `maxWrongCodes` evaluations between them; the right code afterwards is refused.
   */
  async verify(linkToken: string, sessionId: string, code: string): Promise<string> {
    const checkout = await this.payable(linkToken);
    const now = this.deps.clock.now().toISOString();
    const taken = await checkoutStore.takeSessionTry(
      this.deps.db,
      sessionId,
      checkout.order_id,
      this.deps.options.maxWrongCodes,
    );
    if (!taken) {
      const session = await checkoutStore.sessionOf(this.deps.db, sessionId, checkout.order_id);
      if (session && session.code_hash && !session.verified_at)
        throw new DomainError('CONFIRMATION_FAILED', 'Too many wrong codes; ask for a new code.');
      throw new DomainError('CODE_NOT_SENT', 'Ask for a new code first.');
    }
    if (!taken.code_expires_at || taken.code_expires_at < now)
      throw new DomainError('CODE_EXPIRED', 'The code has expired; ask for a new code.');
    const expected = codeHash(
      this.deps.options.codeKey,
      { id: taken.id, amountMinor: Number(checkout.amount_minor), phone: taken.phone },
      code.normalize('NFKC').replace(/\s+/g, ''),
    );
    if (expected !== taken.code_hash) {
      const left = this.deps.options.maxWrongCodes - taken.wrong_tries;
      throw new DomainError(
        left > 0 ? 'CODE_INCORRECT' : 'CONFIRMATION_FAILED',
        left > 0 ? `The code is not right; ${left} tries left.` : 'Too many wrong codes; ask for a new code.',
        { triesLeft: left },
      );
    }
    const grant = this.deps.random.token();
    if (!(await checkoutStore.verifySession(this.deps.db, taken.id, taken.code_hash!, sha256(grant), now)))
      throw new DomainError('CODE_NOT_SENT', 'Ask for a new code first.');
    return grant;
  }

  /**
   * A page session still waiting for its code (asked for, not proven, tries left), with how long ago it was asked for;
   * else null.
   */
  async codeSession(linkToken: string, sessionId: string): Promise<{ sentSecondsAgo: number } | null> {
    const checkout = await this.payable(linkToken);
    const session = await checkoutStore.sessionOf(this.deps.db, sessionId, checkout.order_id);
    // Its code may still be on its way (the SMS is sent from the outbox): the page waits for it all the same.
    if (!session || session.verified_at || session.wrong_tries >= this.deps.options.maxWrongCodes) return null;
    return {
      sentSecondsAgo: Math.max(
        0,
        Math.floor((this.deps.clock.now().getTime() - Date.parse(session.created_at)) / 1000),
      ),
    };
  }

  /** How a paid checkout was paid, for the page's success: when, and from what. */
  async paidWith(checkout: Checkout): Promise<{ paidAt: string; source: PaySource; cardLast4: string | null } | null> {
    if (!checkout.paid_payment_id) return null;
    const payment = await paymentStore.byId(this.deps.db, checkout.paid_payment_id);
    if (!payment?.completed_at) return null;
    const labels = await receiptLabels(this.deps.db, payment.order_id, payment.source, payment.account_id);
    return { paidAt: payment.completed_at, source: labels.source, cardLast4: labels.cardLast4 };
  }

  /**
   * What the merchant gave back of the payment that paid a checkout, for the page of a paid order that
   * was then refunded; null when nothing was, or when the only refund is the payment server's own (the
   * order had ended when the payment arrived: the page says that instead).
   */
  async merchantRefund(checkout: Checkout): Promise<MerchantRefund | null> {
    const paymentId = checkout.paid_payment_id;
    if (!paymentId) return null;
    const refunds = (await refundStore.ofOrder(this.deps.db, checkout.order_id)).filter(
      (r) => r.payment_id === paymentId && r.status === 'succeeded',
    );
    if (refunds.length === 0 || refunds.some((r) => r.id === lateRefundId(paymentId))) return null;
    const payment = await paymentStore.byId(this.deps.db, paymentId);
    if (!payment) return null;
    const labels = await receiptLabels(this.deps.db, payment.order_id, payment.source, payment.account_id);
    return {
      amountMinor: refunds.reduce((sum, r) => sum + Number(r.amount_minor), 0),
      currency: payment.currency,
      refundedAt: refunds.at(-1)!.created_at,
      source: labels.source,
      cardLast4: labels.cardLast4,
    };
  }

  /** Whether the grant proves the order's phone on this page now (its code was confirmed, not long ago). */
  async proven(linkToken: string, grant: string): Promise<boolean> {
    return this.granted(linkToken, grant).then(
      () => true,
      (err: unknown) => {
        if (err instanceof DomainError) return false;
        throw err;
      },
    );
  }

  /** What the proven phone can pay with. */
  async payOptions(linkToken: string, grant: string): Promise<{ checkout: Checkout; options: PayOptions }> {
    const { checkout, session } = await this.granted(linkToken, grant);
    const account = await accountStore.byPhone(this.deps.db, session.phone);
    if (!account) return { checkout, options: { wallet: null, card: null, quickPay: false } };
    const ledgers = await accountStore.sources(this.deps.db, account.id);
    const avail = (l: (typeof ledgers)[number]) => Number(l.balance_minor) - Number(l.held_minor);
    const wallet = ledgers.find((l) => l.kind === 'wallet');
    const card = ledgers.find((l) => l.kind === 'card');
    return {
      checkout,
      options: {
        wallet: wallet ? { availableMinor: avail(wallet) } : null,
        card: card ? { last4: card.card_last4 ?? '', availableMinor: avail(card) } : null,
        quickPay: account.quick_pay === 1,
      },
    };
  }

  /**
   * Pays the order from the chosen source: reserve, capture and mark the
   * order paid in one transaction. Refuses with INSUFFICIENT_FUNDS (nothing
   * moved) when the source does not cover the amount, and with
   * PAYMENT_IN_PROGRESS when another page of the same order is paying at
   * that moment. Then it tells the back-end at once and waits for its verdict
   * (a few seconds at most), so the page says what really happened: paid, or
   * refunded because the order had ended meanwhile.
   */
  async pay(linkToken: string, grant: string, source: 'wallet' | 'card', agreeQuickPay: boolean): Promise<PayOutcome> {
    const { checkout, session } = await this.granted(linkToken, grant);
    const now = this.deps.clock.now().toISOString();
    let notifyMessageId: string;
    try {
      notifyMessageId = await this.deps.work.run((trx) =>
        this.payIn(trx, checkout, session, grant, source, agreeQuickPay, now),
      );
    } catch (err) {
      if (isUniqueViolation(err))
        throw new DomainError(
          'PAYMENT_IN_PROGRESS',
          'This order is being paid on another page at this moment; reload to see how it went.',
        );
      throw err;
    }
    const verdict = await Promise.race([
      (this.deps.deliverNow?.(notifyMessageId) ?? Promise.resolve(false)).catch(() => false),
      new Promise<false>((r) => setTimeout(() => r(false), VERDICT_WAIT_MS).unref()),
    ]);
    return { checkout: await this.find(linkToken), confirming: !verdict };
  }

  private async payIn(
    trx: PayserverDb,
    checkout: Checkout,
    session: PayserverTables['page_sessions'],
    grant: string,
    source: 'wallet' | 'card',
    agreeQuickPay: boolean,
    now: string,
  ): Promise<string> {
    if (!(await checkoutStore.spendGrant(trx, session.id, sha256(grant))))
      throw new DomainError('GRANT_INVALID', 'This payment page has expired; start again from the link.');
    const account = await accountStore.byPhone(trx, session.phone);
    if (!account) throw new DomainError('NO_ACCOUNT', 'This phone has no wallet to pay from.');
    if (account.currency !== checkout.currency)
      throw new DomainError(
        'CURRENCY_MISMATCH',
        `The wallet holds ${account.currency}, the order is in ${checkout.currency}.`,
      );
    const la = await accountStore.source(trx, account.id, source);
    if (!la)
      throw new DomainError(
        'SOURCE_NOT_FOUND',
        source === 'card' ? 'No bank card is linked to this wallet.' : 'This account has no wallet.',
      );
    const paymentId = this.deps.random.id('pay');
    const holdId = await this.deps.ledger.reserve(trx, la.id, Number(checkout.amount_minor), paymentId);
    if (!holdId)
      throw new DomainError(
        'INSUFFICIENT_FUNDS',
        source === 'card'
          ? 'The card does not cover the amount.'
          : 'The wallet does not cover the amount; try the card.',
      );
    const payment = newPayment({
      id: paymentId,
      order_id: checkout.order_id,
      attempt: checkout.attempt,
      method: 'page',
      phone: session.phone,
      account_id: account.id,
      source,
      hold_id: holdId,
      amount_minor: Number(checkout.amount_minor),
      currency: checkout.currency,
      status: 'pending',
      created_at: now,
    });
    await paymentStore.insert(trx, payment);
    // A renewing product renews only if the payer agreed to quick pay here (renewals are charged under it).
    const captured = await this.deps.settlement.capture(trx, payment, { renewalConsent: agreeQuickPay });
    if (!captured) throw new DomainError('ORDER_FINAL', 'This order can no longer be paid.');
    if (agreeQuickPay && account.quick_pay !== 1) {
      await accountStore.agreeQuickPay(trx, account.id, now);
      await queueText(trx, this.deps.random, {
        kind: 'quick-pay-on',
        to: session.phone,
        from: this.deps.options.smsFrom,
        text: quickPayOnSms(this.deps.options.locale, { payee: checkout.payee }),
        now: new Date(now),
      });
    }
    return captured.notifyMessageId;
  }

  private async payable(linkToken: string): Promise<Checkout> {
    const checkout = await this.find(linkToken);
    if (!this.isPayable(checkout))
      throw new DomainError(
        'ORDER_FINAL',
        checkout.status === 'paid' ? 'This order is already paid.' : 'This order can no longer be paid.',
      );
    return checkout;
  }

  private async granted(linkToken: string, grant: string) {
    const checkout = await this.payable(linkToken);
    const session = await checkoutStore.sessionByGrant(this.deps.db, sha256(grant), checkout.order_id);
    if (!session?.verified_at || Date.parse(session.verified_at) + GRANT_TTL_MS < this.deps.clock.now().getTime()) {
      throw new DomainError('GRANT_INVALID', 'This payment page has expired; start again from the link.');
    }
    return { checkout, session };
  }
}

import type { RefundAnswer, RefundRequest } from '../../contracts/provider-api.ts';
import type { Clock } from '../../lib/clock.ts';
import type { UnitOfWork } from '../../lib/db/unit-of-work.ts';
import { isUniqueViolation } from '../../lib/db/unique-violation.ts';
import type { RandomSource } from '../../lib/ids.ts';
import { topic } from '../../lib/outbox/outbox.ts';
import { enqueue, queueSms } from '../outbox.ts';
import type { SmsGateway } from '../../sms/gateway.ts';
import { smsLog } from '../../sms/sms-log.ts';
import { handOver } from '../../sms/text-sms.ts';
import { refundSms, type Locale } from '../../sms/templates.ts';
import { receiptLabels } from '../settlement/receipts.ts';
import { checkoutStore } from '../settlement/checkout-store.ts';
import type { Ledger } from '../ledger/ledger.ts';
import { paymentStore, type Payment } from '../settlement/payment-store.ts';
import { railOf, tellBackend } from '../settlement/settlement.ts';
import { RAIL_REFUND_TOPIC } from '../rails/rail-topics.ts';
import type { PayserverDb, PayserverTables } from '../schema.ts';
import { refundStore, type RefundRow } from './refund-store.ts';

export const REFUND_SMS_TOPIC = topic<{ refundId: string; smsId: string }>('sms.refund');

/** The refund id of a payment the back-end refused (its order had ended): one per payment, whoever asks. */
export const lateRefundId = (paymentId: string) => `rfd_late_${paymentId}`.slice(0, 64);

export interface RefundsOptions {
  locale: Locale;
  smsFrom: string;
}

const answerOf = (r: RefundRow): RefundAnswer => ({ status: r.status, failureCode: r.failure_code });

/** What RefundsService is built from. */
export interface RefundsServiceDeps {
  db: PayserverDb;
  ledger: Ledger;
  gateway: SmsGateway;
  random: RandomSource;
  clock: Clock;
  options: RefundsOptions;
  /** Its transactions, which wake the outbox workers once they have committed. */
  work: UnitOfWork<PayserverTables>;
}

/**
 * Gives captured money back (claims 4 and 7 run backwards): to the source it
 * came from (the wallet, or the card), as a ledger entry from the merchant
 * account, once per refund id. The refunded total of a payment is counted in
 * one conditional UPDATE, so refunds racing on several instances never give
 * back more than was captured. The refund, its ledger entry, the payer's
 * receipt SMS and the message that tells the back-end commit together.
 */
export class RefundsService {
  constructor(private readonly deps: RefundsServiceDeps) {}

  async refund(req: RefundRequest): Promise<RefundAnswer> {
    try {
      const answer = await this.deps.work.run((trx) => this.refundIn(trx, req));
      return answer;
    } catch (err) {
      // The same refund asked twice at once: the second finds the first's row.
      if (!isUniqueViolation(err)) throw err;
      const prior = await refundStore.byId(this.deps.db, req.refundId);
      if (!prior) throw err;
      return answerOf(prior);
    }
  }

  private async refundIn(trx: PayserverDb, req: RefundRequest): Promise<RefundAnswer> {
    const prior = await refundStore.byId(trx, req.refundId);
    if (prior) return answerOf(prior);
    const now = this.deps.clock.now();
    const payment = await paymentStore.byId(trx, req.paymentId);
    const rail = payment ? railOf(payment) : null;
    let failureCode: string | null = null;
    if (!payment || payment.order_id !== req.orderId || (!payment.hold_id && !rail)) failureCode = 'PAYMENT_NOT_FOUND';
    else if (payment.currency !== req.currency) failureCode = 'CURRENCY_MISMATCH';
    else if ((await paymentStore.takeRefund(trx, payment.id, req.amountMinor)) === undefined)
      failureCode = 'REFUND_EXCEEDS_PAYMENT';
    const row: RefundRow = {
      id: req.refundId,
      payment_id: req.paymentId,
      order_id: req.orderId,
      amount_minor: req.amountMinor,
      currency: req.currency,
      source: payment?.source ?? null,
      status: failureCode ? 'failed' : rail ? 'pending' : 'succeeded',
      failure_code: failureCode,
      created_at: now.toISOString(),
    };
    await refundStore.insert(trx, row);
    if (row.status === 'pending') {
      // The money is at the rail: it is asked after the commit, and the outcome settles the refund then.
      await enqueue(trx, {
        id: this.deps.random.id('obx'),
        topic: RAIL_REFUND_TOPIC,
        payload: { refundId: row.id },
        now,
      });
      return answerOf(row);
    }
    if (!failureCode && payment) {
      await this.deps.ledger.refund(trx, payment.hold_id!, req.refundId, req.amountMinor);
      await this.succeeded(trx, row, payment, now);
    } else await this.tell(trx, row, payment?.attempt ?? 0, now);
    return answerOf(row);
  }

  /**
   * What follows a refund's money going back, wherever it went: the payment becomes `refunded` once all
   * of it is, the payer's receipt SMS, and the message that tells the back-end, in the caller's transaction.
   */
  async succeeded(trx: PayserverDb, row: RefundRow, payment: Payment, now: Date): Promise<void> {
    const refunded = (await paymentStore.byId(trx, payment.id))!.refunded_minor;
    if (Number(refunded) === Number(payment.amount_minor)) {
      await paymentStore.move(trx, payment.id, 'refunded', now.toISOString());
      // The checkout page then says the money went back.
      await checkoutStore.closeRefunded(trx, payment.order_id, payment.id);
    }
    if (payment.phone) {
      const sms = { kind: 'refund', to: payment.phone, from: this.deps.options.smsFrom, now, ref: row.id };
      await queueSms(trx, this.deps.random, sms, {
        topic: REFUND_SMS_TOPIC,
        payload: (smsId) => ({ refundId: row.id, smsId }),
      });
    }
    await this.tell(trx, { ...row, status: 'succeeded', failure_code: null }, payment.attempt, now);
  }

  /** Tells the back-end a refund's outcome. */
  async tell(trx: PayserverDb, row: RefundRow, attempt: number, now: Date): Promise<void> {
    await tellBackend(trx, this.deps.random, now, {
      type: row.status === 'succeeded' ? 'refund.succeeded' : 'refund.failed',
      refundId: row.id,
      orderId: row.order_id,
      attempt,
      paymentId: row.payment_id,
      amountMinor: Number(row.amount_minor),
      currency: row.currency,
      failureCode: row.failure_code,
    });
  }

  /** The payer's receipt: amount, product, where the money went, the order. */
  async sendReceipt({ refundId, smsId }: { refundId: string; smsId: string }): Promise<void> {
    const refund = await refundStore.byId(this.deps.db, refundId);
    const payment = refund && (await paymentStore.byId(this.deps.db, refund.payment_id));
    if (!refund || !payment) return;
    // Sent already (a delivery retried after the gateway took it): once is enough.
    if ((await smsLog.byId(this.deps.db, smsId))?.status !== 'queued') return;
    const text = refundSms(this.deps.options.locale, {
      ...(await receiptLabels(this.deps.db, refund.order_id, refund.source, payment.account_id)),
      amountMinor: Number(refund.amount_minor),
      currency: refund.currency,
      orderId: refund.order_id,
    });
    const { db, gateway, clock } = this.deps;
    await handOver(db, gateway, clock, { ref: smsId, to: payment.phone, from: this.deps.options.smsFrom, text });
  }
}

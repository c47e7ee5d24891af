import type { PaymentEvent } from '../../contracts/provider-api.ts';
import type { Clock } from '../../lib/clock.ts';
import type { RandomSource } from '../../lib/ids.ts';
import { topic } from '../../lib/outbox/outbox.ts';
import { enqueue, queueSms } from '../outbox.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { PayserverDb } from '../schema.ts';
import { checkoutStore } from './checkout-store.ts';
import { paymentStore, type Payment } from './payment-store.ts';
import { RECEIPT_SMS_TOPIC } from './receipts.ts';
import { RAIL_NAMES, type RailName } from '../rails/rail.ts';
import { railTradeStore } from './rail-trade-store.ts';
import { RAIL_CLOSE_TOPIC, RAIL_LATE_REFUND_TOPIC } from '../rails/rail-topics.ts';

export const NOTIFY_TOPIC = topic<PaymentEvent>('notify.backend');

/** Tells the phone that a payment for it could not go ahead (nothing was charged). */
export const DECLINED_SMS_TOPIC = topic<{ paymentId: string; smsId: string }>('sms.declined');

/** The rail a payment was taken through, or null for the wallet's own sources. */
export const railOf = (payment: Pick<Payment, 'source'>): RailName | null =>
  (RAIL_NAMES as readonly string[]).includes(payment.source ?? '') ? (payment.source as RailName) : null;

/**
 * Queues a message to the back-end (a payment's or a refund's outcome) in the
 * caller's transaction, so it leaves if and only if the outcome commits.
 * Returns its id.
 */
export async function tellBackend(
  trx: PayserverDb,
  random: RandomSource,
  now: Date,
  event: Omit<PaymentEvent, 'messageId' | 'at'>,
  known?: { correlationId: string | null },
): Promise<string> {
  const messageId = random.id('msg');
  // Under the order's correlation id (its TV's checkout), whatever brought the outcome (an SMS reply, the page, a
  // sweep).
  const correlationId = known ? known.correlationId : await checkoutStore.correlationOf(trx, event.orderId);
  await enqueue(trx, {
    id: messageId,
    topic: NOTIFY_TOPIC,
    payload: { messageId, ...event, at: now.toISOString() },
    now,
    correlationId,
  });
  return messageId;
}

/**
 * The moves a payment makes once it exists, each inside the caller's
 * transaction, each guarded by the payment's current status so it happens at
 * most once: capture (and tell the back-end), fail (release and tell), and
 * release (silently, when another attempt or a close supersedes it).
 */
export class Settlement {
  constructor(
    private readonly ledger: Ledger,
    private readonly random: RandomSource,
    private readonly clock: Clock,
    /** The number receipts are sent from. */
    private readonly smsFrom: string,
  ) {}

  /**
   * Captures a pending payment if its order's checkout is still open, marking
   * the checkout paid in the same transaction: whichever channel gets here
   * first wins and every other attempt for the order is released. Returns
   * false, changing nothing more, when the payment was already resolved
   * (captured, failed or released by a racing transaction), and releases
   * its hold when the order was already paid or closed. On success it gives
   * the id of the outbox message that tells the back-end, so a caller that
   * must know the back-end's verdict can deliver it at once.
   */
  async capture(
    trx: PayserverDb,
    payment: Payment,
    terms: { renewalConsent?: boolean } = {},
  ): Promise<{ notifyMessageId: string } | null> {
    const now = this.clock.now().toISOString();
    if (!(await paymentStore.move(trx, payment.id, 'captured', now))) return null;
    const rail = railOf(payment);
    // A rail has taken the money already: it is booked whatever the order's state, and given back if the order lost.
    if (rail) await this.ledger.railCapture(trx, rail, payment.currency, Number(payment.amount_minor), payment.id);
    const paid = await checkoutStore.markPaid(trx, payment.order_id, payment.id, now);
    if (!paid) {
      if (rail) {
        await this.refundLate(trx, payment);
        return null;
      }
      // Captured a moment ago in this transaction; the order's checkout was no longer open, so it is released instead.
      await paymentStore.releaseInsteadOfCapture(trx, payment.id);
      if (payment.hold_id) await this.ledger.release(trx, payment.hold_id);
      return null;
    }
    if (!rail && (!payment.hold_id || !(await this.ledger.capture(trx, payment.hold_id)))) {
      throw new Error(`ledger invariant broken: the hold of payment ${payment.id} was not open`);
    }
    const others = await paymentStore.pendingOfOrder(trx, payment.order_id, { exceptId: payment.id });
    for (const other of others) await this.release(trx, other, 'SUPERSEDED');
    await this.closeRailTrades(trx, payment.order_id, payment.id);
    if (payment.phone) await this.queueReceipt(trx, payment, paid.correlationId);
    return { notifyMessageId: await this.notify(trx, payment, 'payment.completed', null, terms.renewalConsent, paid) };
  }

  /**
   * Has every trade of the order that may still take money closed at its rail (but the one of
   * `exceptPaymentId`): through the outbox, so the close leaves if and only if what ended the order commits.
   */
  async closeRailTrades(trx: PayserverDb, orderId: string, exceptPaymentId?: string): Promise<void> {
    for (const trade of await railTradeStore.openOfOrder(trx, orderId, exceptPaymentId)) {
      await enqueue(trx, {
        id: this.random.id('obx'),
        topic: RAIL_CLOSE_TOPIC,
        payload: { outTradeNo: trade.out_trade_no },
        now: this.clock.now(),
      });
    }
  }

  /** A rail payment that settled for an order already paid or ended goes back in full, by itself. */
  private async refundLate(trx: PayserverDb, payment: Payment): Promise<void> {
    await enqueue(trx, {
      id: this.random.id('obx'),
      topic: RAIL_LATE_REFUND_TOPIC,
      payload: { paymentId: payment.id },
      now: this.clock.now(),
    });
  }

  /** The payer's receipt leaves with the capture (a refused one is followed by a refund's receipt). */
  private async queueReceipt(trx: PayserverDb, payment: Payment, correlationId: string | null): Promise<void> {
    const kind = payment.method === 'renewal' ? 'renewal-receipt' : 'receipt';
    await queueSms(
      trx,
      this.random,
      { kind, to: payment.phone, from: this.smsFrom, now: this.clock.now(), ref: payment.id },
      { topic: RECEIPT_SMS_TOPIC, payload: (smsId) => ({ paymentId: payment.id, smsId }), correlationId },
    );
  }

  /** Fails a pending payment, releases its hold and tells the back-end. */
  async fail(trx: PayserverDb, payment: Payment, failureCode: string): Promise<boolean> {
    if (!(await this.finish(trx, payment, 'failed', failureCode))) return false;
    await this.notify(trx, payment, 'payment.failed', failureCode);
    return true;
  }

  /**
   * Fails a payment the payer had confirmed (a charge under a rail's agreement that the rail refused) and
   * tells the phone as well as the back-end, so the payer who replied is never left in silence.
   */
  async failAndTellPhone(trx: PayserverDb, payment: Payment, failureCode: string): Promise<boolean> {
    if (!(await this.fail(trx, payment, failureCode))) return false;
    if (!payment.phone) return true;
    await queueDeclined(
      trx,
      this.random,
      { paymentId: payment.id, to: payment.phone, from: this.smsFrom },
      this.clock.now(),
    );
    return true;
  }

  /** Releases a pending payment's hold without telling anyone (it was superseded or its order closed). */
  async release(trx: PayserverDb, payment: Payment, reason: string): Promise<boolean> {
    return this.finish(trx, payment, 'released', reason);
  }

  private async finish(
    trx: PayserverDb,
    payment: Payment,
    status: 'failed' | 'released',
    reason: string,
  ): Promise<boolean> {
    if (
      !(await paymentStore.move(trx, payment.id, status, this.clock.now().toISOString(), {
        failure_code: reason,
        code_hash: null,
      }))
    )
      return false;
    if (payment.hold_id) await this.ledger.release(trx, payment.hold_id);
    return true;
  }

  private async notify(
    trx: PayserverDb,
    payment: Payment,
    type: 'payment.completed' | 'payment.failed',
    failureCode: string | null,
    renewalConsent?: boolean,
    known?: { correlationId: string | null },
  ): Promise<string> {
    return tellBackend(
      trx,
      this.random,
      this.clock.now(),
      {
        type,
        orderId: payment.order_id,
        attempt: payment.attempt,
        paymentId: payment.id,
        amountMinor: Number(payment.amount_minor),
        currency: payment.currency,
        failureCode,
        ...(renewalConsent === undefined ? {} : { renewalConsent }),
        ...(type === 'payment.completed' && payment.source ? { source: payment.source } : {}),
        ...(type === 'payment.completed' && payment.method === 'scan' ? { channel: 'scan' as const } : {}),
      },
      known,
    );
  }
}

/** Queues the SMS that tells a phone its payment could not go ahead, in the caller's transaction. */
export async function queueDeclined(
  trx: PayserverDb,
  random: RandomSource,
  sms: { paymentId: string; to: string; from: string },
  now: Date,
): Promise<void> {
  await queueSms(
    trx,
    random,
    { kind: 'declined', to: sms.to, from: sms.from, now, ref: sms.paymentId },
    { topic: DECLINED_SMS_TOPIC, payload: (smsId) => ({ paymentId: sms.paymentId, smsId }) },
  );
}

import type { UnitOfWork } from '../../lib/db/unit-of-work.ts';
import type { Clock } from '../../lib/clock.ts';
import type { RandomSource } from '../../lib/ids.ts';
import type { Log } from '../../lib/log.ts';
import { onPostgres } from '../../lib/db/dialect-of.ts';
import { topic } from '../../lib/outbox/outbox.ts';
import { queueSms } from '../outbox.ts';
import type { SmsGateway } from '../../sms/gateway.ts';
import { handOver } from '../../sms/text-sms.ts';
import { linkSms, type Locale } from '../../sms/templates.ts';
import type { OrderEvents } from '../core/order-events.ts';
import { findOrder, setChannel, type OrderRow } from '../orders/order-store.ts';
import type { OrderEnding } from '../orders/order-ending.ts';
import type { BackendDb, BackendTables } from '../schema.ts';
import type { LinkTokens } from '../core/link-tokens.ts';
import type { PaymentProvider } from '../core/payment-provider.ts';

export const LINK_SMS_TOPIC = topic<{ orderId: string; attempt: number; smsId: string }>('sms.link');

export interface AttemptOptions {
  payee: string;
  locale: Locale;
  smsFrom: string;
  /** The tries a code SMS starts with (the TV shows what is left). */
  maxWrongCodes: number;
}

/** What PaymentAttempts is built from. */
export interface PaymentAttemptsDeps {
  db: BackendDb;
  /** Its transactions, which wake the outbox once they have committed if they wrote to it. */
  work: UnitOfWork<BackendTables>;
  provider: PaymentProvider;
  /** The orders' link tokens, recomputed when the link is texted (none is stored). */
  linkTokens: LinkTokens;
  ending: OrderEnding;
  gateway: SmsGateway;
  events: OrderEvents;
  random: RandomSource;
  clock: Clock;
  options: AttemptOptions;
  log: Log;
}

/**
 * Runs one payer attempt (claim 1's judgement and branches): ask the payment
 * server whether the phone is bound; bound → pre-pay message (the payment
 * server texts the code); not bound → register the checkout and text the
 * link from here. Re-running it is harmless: the payment server answers
 * (orderId, attempt) idempotently and the order takes the outcome only once.
 */
export class PaymentAttempts {
  constructor(private readonly deps: PaymentAttemptsDeps) {}

  /** Runs the attempt from the order as the store has it now; nothing when it is no longer that attempt. */
  async run({ orderId, attempt }: { orderId: string; attempt: number }): Promise<void> {
    const order = await findOrder(this.deps.db, orderId);
    if (!order || order.attempt !== attempt) return;
    await this.runFrom(order);
  }

  /**
   * run(), from the order as its caller has it (the payer submission's own row, as it committed it: no read).
   * Resolves, once whatever it changed has committed, with the order as it left it when it took the outcome.
   * The caller that runs it in place of an outbox message marks that message done afterwards (markDoneSoon):
   * only once the effect committed, and a lost mark is a redelivery that finds the channel taken.
   */
  async runFrom(order: OrderRow): Promise<{ order?: OrderRow }> {
    const { id: orderId, attempt } = order;
    const none = {};
    if (order.status !== 'awaiting_payment' || !order.payer_phone || order.channel) return none;
    const bound = await this.deps.provider.isBound(order.payer_phone);
    const mode = bound ? 'sms_confirm' : 'wap_link';
    const outcome = await this.deps.provider.startPayment({
      orderId,
      attempt,
      mode,
      phone: order.payer_phone,
      amountMinor: Number(order.amount_minor),
      currency: order.currency,
      productTitle: order.title,
      payee: this.deps.options.payee,
      linkToken: this.deps.linkTokens.of(order),
      deviceId: order.device_id,
      expiresAt: order.expires_at,
      ...(order.renews ? { renewsEveryDays: order.duration_days } : {}),
    });
    const now = this.deps.clock.now();
    if (outcome.state === 'failed') {
      // The channel it took and the failure, in one transaction (the TV sees both or neither).
      await this.deps.ending.end(
        orderId,
        'failed',
        { failure_code: outcome.failureCode ?? 'PAYMENT_FAILED', channel: mode },
        { attempt },
      );
      return none;
    }
    if (outcome.state !== 'pending_confirmation' && outcome.state !== 'awaiting_checkout') {
      this.deps.log.info({ orderId, attempt, state: outcome.state }, 'payment attempt no longer current');
      return none;
    }
    const changed = await this.takeChannel(order, mode, now);
    if (changed) this.deps.events.publish(orderId, changed);
    return { order: changed };
  }

  /**
   * Records the channel the attempt took (only the first run of it does: the inline run and the outbox may race),
   * with the link SMS it needs. A bound phone's channel alone is one statement on PostgreSQL (the order's update,
   * its timeline entry and its announcement in one WITH), with nothing else to commit with it: run on its own,
   * without BEGIN and COMMIT (issue 30). SQLite writes the timeline entry in a second statement: a transaction.
   */
  private async takeChannel(
    order: OrderRow,
    mode: 'sms_confirm' | 'wap_link',
    now: Date,
  ): Promise<OrderRow | undefined> {
    const { id: orderId, attempt } = order;
    const { db, work, options } = this.deps;
    if (mode === 'sms_confirm' && onPostgres(db))
      return setChannel(db, orderId, attempt, mode, now, options.maxWrongCodes);
    return work.run(async (trx) => {
      const ok = await setChannel(trx, orderId, attempt, mode, now, options.maxWrongCodes);
      if (ok && mode === 'wap_link') {
        const sms = { kind: 'link', to: order.payer_phone!, from: options.smsFrom, now, ref: orderId };
        await queueSms(trx, this.deps.random, sms, {
          topic: LINK_SMS_TOPIC,
          payload: (smsId) => ({ orderId, attempt, smsId }),
        });
      }
      return ok;
    });
  }

  /** The patent's first SMS: product, amount and the link to the phone checkout page. */
  async sendLink({ orderId, attempt, smsId }: { orderId: string; attempt: number; smsId: string }): Promise<void> {
    const order = await findOrder(this.deps.db, orderId);
    if (!order || order.attempt !== attempt || order.status !== 'awaiting_payment' || !order.payer_phone) return;
    const text = linkSms(this.deps.options.locale, {
      product: order.title,
      amountMinor: Number(order.amount_minor),
      currency: order.currency,
      payee: this.deps.options.payee,
      url: this.deps.provider.checkoutUrl(this.deps.linkTokens.of(order)),
    });
    const { db, gateway, clock } = this.deps;
    await handOver(db, gateway, clock, { ref: smsId, to: order.payer_phone, from: this.deps.options.smsFrom, text });
  }

  /**
   * Tells the payment server that the order's attempts before `attempt` ended (their codes refused, holds released).
   */
  async endAttempt({ orderId, attempt }: { orderId: string; attempt: number }): Promise<void> {
    await this.deps.provider.endAttempt(orderId, attempt);
  }

  async close({ orderId }: { orderId: string }): Promise<void> {
    await this.deps.provider.closeOrder(orderId);
  }
}

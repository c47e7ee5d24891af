import { crashPoint } from '../../lib/crash-points.ts';
import type { UnitOfWork } from '../../lib/db/unit-of-work.ts';
import type { Clock } from '../../lib/clock.ts';
import type { RandomSource } from '../../lib/ids.ts';
import type { SmsGateway } from '../../sms/gateway.ts';
import { smsLog } from '../../sms/sms-log.ts';
import { handOver } from '../../sms/text-sms.ts';
import { codeSms, declinedSms, possessionSms, type Locale } from '../../sms/templates.ts';
import type { SmsBudget } from '../../sms/sms-budget.ts';
import type { PayserverDb, PayserverTables } from '../schema.ts';
import { queueSms } from '../outbox.ts';
import { CODE_SMS_TOPIC } from './code-topics.ts';
import type { Settlement } from '../settlement/settlement.ts';
import { codeHash } from './code-hash.ts';
import { accountStore } from '../accounts/account-store.ts';
import { checkoutStore } from '../settlement/checkout-store.ts';
import { paymentStore } from '../settlement/payment-store.ts';
import type { Count } from '../../lib/metrics/service-metrics.ts';

/** Code SMS per payment before it fails with SMS_UNDELIVERABLE, and gateway tries per SMS. */
const MAX_CODE_SMS = 3;
const MAX_SEND_ATTEMPTS = 5;

export interface CodeSenderOptions {
  codeKey: string;
  codeTtlSeconds: number;
  locale: Locale;
  from: string;
}

/** What CodeSmsSender is built from. */
export interface CodeSmsSenderDeps {
  db: PayserverDb;
  gateway: SmsGateway;
  random: RandomSource;
  clock: Clock;
  options: CodeSenderOptions;
  settlement: Settlement;
  /** Its transactions, which wake the outbox workers once they have committed. */
  work: UnitOfWork<PayserverTables>;
  budget: SmsBudget;
  /** Counts an SMS the gateway never took (the service's metrics); nothing when left out. */
  count?: Count;
}

/**
 * Sends the one-time codes. The code is drawn when the SMS leaves (in the
 * outbox handler), stored only as a hash, and never written anywhere else, so
 * no table or log ever holds a usable code. A retried send draws a new code
 * and the older one stops working.
 */
export class CodeSmsSender {
  constructor(private readonly deps: CodeSmsSenderDeps) {}

  /** The patent's second SMS for a pending pre-pay. */
  async sendPaymentCode(
    { paymentId, smsId }: { paymentId: string; smsId: string },
    _messageId?: string,
    attempt = 1,
  ): Promise<void> {
    const prepared = await this.deps.work.run(async (trx) => {
      // The payment, its checkout's labels and the phone's other pending codes in one read on PostgreSQL (issue 30).
      const read = await paymentStore.forCodeSms(trx, paymentId);
      if (!read || read.payment.status !== 'pending') return null;
      const { payment, otherCodes: others } = read;
      const code = this.distinctCode((c) =>
        others.some(
          (o) =>
            o.code_hash ===
            codeHash(this.deps.options.codeKey, { id: o.id, amountMinor: Number(o.amount_minor), phone: o.phone }, c),
        ),
      );
      const hash = codeHash(
        this.deps.options.codeKey,
        { id: payment.id, amountMinor: Number(payment.amount_minor), phone: payment.phone },
        code,
      );
      if (
        !(await paymentStore.setCode(
          trx,
          paymentId,
          hash,
          new Date(this.deps.clock.now().getTime() + this.deps.options.codeTtlSeconds * 1000).toISOString(),
        ))
      )
        return null;
      if (payment.product_title === null) throw new Error(`payment ${payment.id} has no checkout`);
      const card =
        payment.source === 'card' && payment.account_id
          ? await accountStore.source(trx, payment.account_id, 'card')
          : undefined;
      return {
        to: payment.phone,
        text: codeSms(this.deps.options.locale, {
          product: payment.product_title,
          payee: payment.payee ?? '',
          amountMinor: Number(payment.amount_minor),
          currency: payment.currency,
          code,
          source: payment.source ?? 'wallet',
          cardLast4: card?.card_last4 ?? null,
          renewsEveryDays: payment.renews_days,
          minutes: Math.round(this.deps.options.codeTtlSeconds / 60),
        }),
      };
    });
    if (!prepared) return;
    let gatewayId: string | undefined;
    try {
      ({ gatewayId } = await this.deps.gateway.send({
        ref: smsId,
        to: prepared.to,
        from: this.deps.options.from,
        text: prepared.text,
      }));
    } catch (err) {
      if (attempt < MAX_SEND_ATTEMPTS) throw err;
      if (await smsLog.advance(this.deps.db, smsId, 'failed', this.deps.clock.now()))
        this.deps.count?.({ event: 'sms_finished', state: 'failed' });
      await this.deliveryFailed(smsId);
      return;
    }
    crashPoint('payserver.after-code-sms');
    // With the other SMS handed over meanwhile, in one statement; written before the outbox marks it done.
    await smsLog.advanceSoon(this.deps.db, smsId, 'sent', this.deps.clock.now(), gatewayId);
  }

  /** The code that proves possession of the phone on the checkout page. */
  async sendPossessionCode({ sessionId, smsId }: { sessionId: string; smsId: string }): Promise<void> {
    const prepared = await this.deps.work.run(async (trx) => {
      const session = await checkoutStore.sessionById(trx, sessionId);
      if (!session || session.verified_at) return null;
      const checkout = await checkoutStore.byOrder(trx, session.order_id);
      if (!checkout || checkout.status !== 'open') return null;
      const code = this.deps.random.code();
      await checkoutStore.setSessionCode(
        trx,
        sessionId,
        codeHash(
          this.deps.options.codeKey,
          { id: session.id, amountMinor: Number(checkout.amount_minor), phone: session.phone },
          code,
        ),
        new Date(this.deps.clock.now().getTime() + this.deps.options.codeTtlSeconds * 1000).toISOString(),
      );
      return {
        to: session.phone,
        text: possessionSms(this.deps.options.locale, {
          payee: checkout.payee,
          amountMinor: Number(checkout.amount_minor),
          currency: checkout.currency,
          code,
          minutes: Math.round(this.deps.options.codeTtlSeconds / 60),
        }),
      };
    });
    if (!prepared) return;
    const { db, gateway, clock } = this.deps;
    await handOver(db, gateway, clock, {
      ref: smsId,
      to: prepared.to,
      from: this.deps.options.from,
      text: prepared.text,
    });
  }

  /** Tells the phone that a payment for it could not go ahead (nothing was charged). */
  async sendDeclined({ paymentId, smsId }: { paymentId: string; smsId: string }): Promise<void> {
    const payment = await paymentStore.byId(this.deps.db, paymentId);
    if (!payment) return;
    const checkout = await checkoutStore.labelsOf(this.deps.db, payment.order_id);
    const text = declinedSms(this.deps.options.locale, {
      product: checkout?.product_title ?? '',
      payee: checkout?.payee ?? '',
      amountMinor: Number(payment.amount_minor),
      currency: payment.currency,
      reason: payment.failure_code ?? '',
      source: payment.source,
    });
    const { db, gateway, clock } = this.deps;
    await handOver(db, gateway, clock, { ref: smsId, to: payment.phone, from: this.deps.options.from, text });
  }

  /**
   * A code SMS that could not be delivered (the gateway's report, or every
   * try to hand it over failed): a new code goes out, up to three SMS in all;
   * then the payment fails with SMS_UNDELIVERABLE and its hold is released,
   * instead of waiting for the code to expire.
   */
  async deliveryFailed(smsId: string): Promise<void> {
    const now = this.deps.clock.now();
    await this.deps.work.run(async (trx) => {
      const sms = await smsLog.byId(trx, smsId);
      if (!sms || sms.kind !== 'code' || !sms.ref) return;
      const payment = await paymentStore.byId(trx, sms.ref);
      if (!payment || payment.status !== 'pending') return;
      if ((await smsLog.countFor(trx, payment.id, 'code')) >= MAX_CODE_SMS) {
        await this.deps.settlement.fail(trx, payment, 'SMS_UNDELIVERABLE');
        return;
      }
      // A resend is an SMS like any other: past the day's budget the payment fails instead.
      if (!(await this.deps.budget.take(trx))) {
        await this.deps.settlement.fail(trx, payment, 'SMS_UNDELIVERABLE');
        return;
      }
      const resend = { kind: 'code', to: payment.phone, from: this.deps.options.from, now, ref: payment.id };
      await queueSms(trx, this.deps.random, resend, {
        topic: CODE_SMS_TOPIC,
        payload: (smsId) => ({ paymentId: payment.id, smsId }),
      });
    });
  }

  /** Draws codes until one differs from every other pending code of the phone. */
  private distinctCode(taken: (code: string) => boolean): string {
    for (let i = 0; i < 50; i++) {
      const code = this.deps.random.code();
      if (!taken(code)) return code;
    }
    throw new Error('could not draw a distinct code');
  }
}

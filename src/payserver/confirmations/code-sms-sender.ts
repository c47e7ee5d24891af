import { crashPoint } from '../../lib/crash-points.ts';
import { inTransaction } from '../../lib/db/in-transaction.ts';
import type { Clock } from '../../lib/clock.ts';
import { affected } from '../../lib/db/affected.ts';
import type { RandomSource } from '../../lib/ids.ts';
import type { SmsGateway } from '../../sms/gateway.ts';
import { smsLog } from '../../sms/sms-log.ts';
import { codeSms, declinedSms, possessionSms, type Locale } from '../../sms/templates.ts';
import type { SmsBudget } from '../../sms/sms-budget.ts';
import type { PayserverDb } from '../schema.ts';
import { enqueue } from '../../lib/outbox/outbox.ts';
import { CODE_SMS_TOPIC } from '../payments/payments-service.ts';
import type { Settlement } from '../payments/settlement.ts';
import { codeHash } from './code-hash.ts';

/** Code SMS per payment before it fails with SMS_UNDELIVERABLE, and gateway tries per SMS. */
const MAX_CODE_SMS = 3;
const MAX_SEND_ATTEMPTS = 5;

export interface CodeSenderOptions {
  codeKey: string;
  codeTtlSeconds: number;
  locale: Locale;
  from: string;
}

/**
 * Sends the one-time codes. The code is drawn when the SMS leaves (in the
 * outbox handler), stored only as a hash, and never written anywhere else, so
 * no table or log ever holds a usable code. A retried send draws a new code
 * and the older one stops working.
 */
export class CodeSmsSender {
  constructor(
    private readonly db: PayserverDb,
    private readonly gateway: SmsGateway,
    private readonly random: RandomSource,
    private readonly clock: Clock,
    private readonly options: CodeSenderOptions,
    private readonly settlement: Settlement,
    private readonly kick: () => void,
    private readonly budget: SmsBudget,
  ) {}

  /** The patent's second SMS for a pending pre-pay. */
  async sendPaymentCode({ paymentId, smsId }: { paymentId: string; smsId: string }, _messageId?: string, attempt = 1): Promise<void> {
    const prepared = await inTransaction(this.db, async (trx) => {
      const payment = await trx.selectFrom('payments').selectAll().where('id', '=', paymentId).executeTakeFirst();
      if (!payment || payment.status !== 'pending') return null;
      const others = await trx
        .selectFrom('payments')
        .select(['id', 'amount_minor', 'phone', 'code_hash'])
        .where('phone', '=', payment.phone)
        .where('status', '=', 'pending')
        .where('id', '!=', paymentId)
        .where('code_hash', 'is not', null)
        .execute();
      const code = this.distinctCode((c) =>
        others.some((o) => o.code_hash === codeHash(this.options.codeKey, { id: o.id, amountMinor: Number(o.amount_minor), phone: o.phone }, c)),
      );
      const res = await trx
        .updateTable('payments')
        .set({
          code_hash: codeHash(this.options.codeKey, { id: payment.id, amountMinor: Number(payment.amount_minor), phone: payment.phone }, code),
          code_expires_at: new Date(this.clock.now().getTime() + this.options.codeTtlSeconds * 1000).toISOString(),
        })
        .where('id', '=', paymentId)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      if (affected(res) !== 1) return null;
      const checkout = await trx.selectFrom('checkouts').select(['product_title', 'payee']).where('order_id', '=', payment.order_id).executeTakeFirstOrThrow();
      const card = payment.source === 'card'
        ? await trx.selectFrom('ledger_accounts').select('card_last4').where('account_id', '=', payment.account_id).where('kind', '=', 'card').executeTakeFirst()
        : undefined;
      return {
        to: payment.phone,
        text: codeSms(this.options.locale, {
          product: checkout.product_title,
          payee: checkout.payee,
          amountMinor: Number(payment.amount_minor),
          currency: payment.currency,
          code,
          source: payment.source ?? 'wallet',
          cardLast4: card?.card_last4 ?? null,
        }),
      };
    });
    if (!prepared) return;
    let gatewayId: string | undefined;
    try {
      ({ gatewayId } = await this.gateway.send({ ref: smsId, to: prepared.to, from: this.options.from, text: prepared.text }));
    } catch (err) {
      if (attempt < MAX_SEND_ATTEMPTS) throw err;
      await smsLog.advance(this.db, smsId, 'failed', this.clock.now());
      await this.deliveryFailed(smsId);
      return;
    }
    crashPoint('payserver.after-code-sms');
    await smsLog.advance(this.db, smsId, 'sent', this.clock.now(), gatewayId);
  }

  /** The code that proves possession of the phone on the checkout page. */
  async sendPossessionCode({ sessionId, smsId }: { sessionId: string; smsId: string }): Promise<void> {
    const prepared = await inTransaction(this.db, async (trx) => {
      const session = await trx.selectFrom('page_sessions').selectAll().where('id', '=', sessionId).executeTakeFirst();
      if (!session || session.verified_at) return null;
      const checkout = await trx.selectFrom('checkouts').selectAll().where('order_id', '=', session.order_id).executeTakeFirstOrThrow();
      if (checkout.status !== 'open') return null;
      const code = this.random.code();
      await trx
        .updateTable('page_sessions')
        .set({
          code_hash: codeHash(this.options.codeKey, { id: session.id, amountMinor: Number(checkout.amount_minor), phone: session.phone }, code),
          code_expires_at: new Date(this.clock.now().getTime() + this.options.codeTtlSeconds * 1000).toISOString(),
        })
        .where('id', '=', sessionId)
        .execute();
      return {
        to: session.phone,
        text: possessionSms(this.options.locale, {
          payee: checkout.payee,
          amountMinor: Number(checkout.amount_minor),
          currency: checkout.currency,
          code,
          minutes: Math.round(this.options.codeTtlSeconds / 60),
        }),
      };
    });
    if (!prepared) return;
    const { gatewayId } = await this.gateway.send({ ref: smsId, to: prepared.to, from: this.options.from, text: prepared.text });
    await smsLog.advance(this.db, smsId, 'sent', this.clock.now(), gatewayId);
  }

  /** Tells the phone that a payment for it could not go ahead (nothing was charged). */
  async sendDeclined({ paymentId, smsId }: { paymentId: string; smsId: string }): Promise<void> {
    const payment = await this.db.selectFrom('payments').selectAll().where('id', '=', paymentId).executeTakeFirst();
    if (!payment) return;
    const checkout = await this.db.selectFrom('checkouts').select(['product_title', 'payee']).where('order_id', '=', payment.order_id).executeTakeFirst();
    const text = declinedSms(this.options.locale, {
      product: checkout?.product_title ?? '',
      payee: checkout?.payee ?? '',
      amountMinor: Number(payment.amount_minor),
      currency: payment.currency,
      reason: payment.failure_code ?? '',
    });
    const { gatewayId } = await this.gateway.send({ ref: smsId, to: payment.phone, from: this.options.from, text });
    await smsLog.advance(this.db, smsId, 'sent', this.clock.now(), gatewayId);
  }

  /**
   * A code SMS that could not be delivered (the gateway's report, or every
   * try to hand it over failed): a new code goes out, up to three SMS in all;
   * then the payment fails with SMS_UNDELIVERABLE and its hold is released,
   * instead of waiting for the code to expire.
   */
  async deliveryFailed(smsId: string): Promise<void> {
    const now = this.clock.now();
    await inTransaction(this.db, async (trx) => {
      const sms = await trx.selectFrom('sms_messages').selectAll().where('id', '=', smsId).executeTakeFirst();
      if (!sms || sms.kind !== 'code' || !sms.ref) return;
      const payment = await trx.selectFrom('payments').selectAll().where('id', '=', sms.ref).executeTakeFirst();
      if (!payment || payment.status !== 'pending') return;
      const sent = await trx
        .selectFrom('sms_messages')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('ref', '=', payment.id)
        .where('kind', '=', 'code')
        .executeTakeFirstOrThrow();
      if (Number(sent.n) >= MAX_CODE_SMS) {
        await this.settlement.fail(trx, payment, 'SMS_UNDELIVERABLE');
        return;
      }
      // A resend is an SMS like any other: past the day's budget the payment fails instead.
      if (!(await this.budget.take(trx))) {
        await this.settlement.fail(trx, payment, 'SMS_UNDELIVERABLE');
        return;
      }
      const next = this.random.id('sms');
      await smsLog.queued(trx, { id: next, kind: 'code', to: payment.phone, from: this.options.from, now, ref: payment.id });
      await enqueue(trx, { id: this.random.id('obx'), topic: CODE_SMS_TOPIC, payload: { paymentId: payment.id, smsId: next }, now });
    });
    this.kick();
  }

  /** Draws codes until one differs from every other pending code of the phone. */
  private distinctCode(taken: (code: string) => boolean): string {
    for (let i = 0; i < 50; i++) {
      const code = this.random.code();
      if (!taken(code)) return code;
    }
    throw new Error('could not draw a distinct code');
  }
}

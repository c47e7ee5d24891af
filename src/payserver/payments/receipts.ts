import type { Clock } from '../../lib/clock.ts';
import { topic } from '../../lib/outbox/outbox.ts';
import type { SmsGateway } from '../../sms/gateway.ts';
import { smsLog } from '../../sms/sms-log.ts';
import { paymentReceiptSms, renewalReceiptSms, type Locale } from '../../sms/templates.ts';
import { accountStore } from '../accounts/account-store.ts';
import { checkoutStore } from '../checkout/checkout-store.ts';
import type { PayserverDb } from '../schema.ts';
import { paymentStore } from './payment-store.ts';

/** The payer's receipt of a captured payment (a renewal's says it renewed). */
export const RECEIPT_SMS_TOPIC = topic<{ paymentId: string; smsId: string }>('sms.receipt');

/**
 * Sends a payment's receipt (product, amount, source, order number), built
 * when it leaves from what the payment server recorded, once per SMS.
 */
export function receiptSender(db: PayserverDb, gateway: SmsGateway, clock: Clock, options: { locale: Locale; from: string }) {
  return async ({ paymentId, smsId }: { paymentId: string; smsId: string }): Promise<void> => {
    if ((await smsLog.byId(db, smsId))?.status !== 'queued') return;
    const payment = await paymentStore.byId(db, paymentId);
    if (!payment) return;
    const labels = await checkoutStore.labelsOf(db, payment.order_id);
    const card = payment.source === 'card' && payment.account_id ? await accountStore.source(db, payment.account_id, 'card') : undefined;
    const p = {
      product: labels?.product_title ?? '',
      payee: labels?.payee ?? '',
      amountMinor: Number(payment.amount_minor),
      currency: payment.currency,
      source: payment.source ?? ('wallet' as const),
      cardLast4: card?.card_last4 ?? null,
      orderId: payment.order_id,
    };
    const text = payment.method === 'renewal' ? renewalReceiptSms(options.locale, p) : paymentReceiptSms(options.locale, p);
    const { gatewayId } = await gateway.send({ ref: smsId, to: payment.phone, from: options.from, text });
    await smsLog.advance(db, smsId, 'sent', clock.now(), gatewayId);
  };
}

import type { Clock } from '../../lib/clock.ts';
import { topic } from '../../lib/outbox/outbox.ts';
import type { SmsGateway } from '../../sms/gateway.ts';
import { handOver } from '../../sms/text-sms.ts';
import { paymentReceiptSms, renewalReceiptSms, type Locale, type PaySource } from '../../sms/templates.ts';
import { accountStore } from '../accounts/account-store.ts';
import { checkoutStore } from './checkout-store.ts';
import type { PayserverDb } from '../schema.ts';
import { paymentStore } from './payment-store.ts';

/** The payer's receipt of a captured payment (a renewal's says it renewed). */
export const RECEIPT_SMS_TOPIC = topic<{ paymentId: string; smsId: string }>('sms.receipt');

/**
 * What every receipt names besides the amount: the product, the payee, and the card's last four digits when the card
 * paid.
 */
export async function receiptLabels(
  db: PayserverDb,
  orderId: string,
  source: PaySource | null,
  accountId: string | null,
) {
  return labelsWithCard(db, await checkoutStore.labelsOf(db, orderId), source, accountId);
}

/** The same, from the checkout's labels already read. */
async function labelsWithCard(
  db: PayserverDb,
  labels: { product_title: string | null; payee: string | null } | undefined,
  source: PaySource | null,
  accountId: string | null,
) {
  const card = source === 'card' && accountId ? await accountStore.source(db, accountId, 'card') : undefined;
  return {
    product: labels?.product_title ?? '',
    payee: labels?.payee ?? '',
    source: source ?? ('wallet' as const),
    cardLast4: card?.card_last4 ?? null,
  };
}

/**
 * Sends a payment's receipt (product, amount, source, order number), built
 * when it leaves from what the payment server recorded, once per SMS.
 */
export function receiptSender(
  db: PayserverDb,
  gateway: SmsGateway,
  clock: Clock,
  options: { locale: Locale; from: string },
) {
  return async ({ paymentId, smsId }: { paymentId: string; smsId: string }): Promise<void> => {
    // The payment, its labels and the SMS's state in one read; an SMS no longer queued was sent already.
    const payment = await paymentStore.forSms(db, paymentId, smsId);
    if (!payment || payment.sms_status !== 'queued') return;
    const p = {
      ...(await labelsWithCard(db, payment, payment.source, payment.account_id)),
      amountMinor: Number(payment.amount_minor),
      currency: payment.currency,
      orderId: payment.order_id,
    };
    const text =
      payment.method === 'renewal' ? renewalReceiptSms(options.locale, p) : paymentReceiptSms(options.locale, p);
    await handOver(db, gateway, clock, { ref: smsId, to: payment.phone, from: options.from, text });
  };
}

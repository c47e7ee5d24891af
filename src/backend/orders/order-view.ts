import type { AdminOrder, Order } from '../../contracts/tv-api.ts';
import { maskPhone } from '../../lib/phone.ts';
import type { LinkedOrder } from '../core/link-tokens.ts';
import type { BackendTables } from '../schema.ts';

export type OrderView = Order;
export { AdminOrderSchema, OrderSchema } from '../../contracts/tv-api.ts';

/** What a TV may see of an order: the phone only masked, the pay link once a payer is known. */
export function toOrderView(o: BackendTables['orders'], checkoutUrl: (order: LinkedOrder) => string): OrderView {
  return {
    orderId: o.id,
    productId: o.product_id,
    title: o.title,
    amountMinor: Number(o.amount_minor),
    currency: o.currency,
    status: o.status,
    channel: o.channel,
    payerPhoneMasked: o.payer_phone ? maskPhone(o.payer_phone) : null,
    payUrl: o.attempt > 0 ? checkoutUrl(o) : null,
    failureCode: o.failure_code,
    createdAt: o.created_at,
    expiresAt: o.expires_at,
    paidAt: o.paid_at,
    fulfilledAt: o.fulfilled_at,
    refundedMinor: Number(o.refunded_minor),
    triesLeft: o.channel === 'sms_confirm' && o.status === 'awaiting_payment' ? o.tries_left : null,
    paidWith: o.paid_source ?? null,
  };
}

/**
 * What operators see of an order. Without `checkoutUrl` (for what leaves in
 * webhooks and is kept with them) `payUrl` is null: the link is a bearer
 * secret for the payer, not something to copy into other systems.
 */
export function toAdminOrder(o: BackendTables['orders'], checkoutUrl?: (order: LinkedOrder) => string): AdminOrder {
  return {
    ...toOrderView(o, checkoutUrl ?? (() => '')),
    ...(checkoutUrl ? {} : { payUrl: null }),
    payerPhone: o.payer_phone,
    deviceId: o.device_id,
    accountId: o.account_id,
    paymentId: o.payment_id,
    subscriptionId: o.subscription_id,
  };
}

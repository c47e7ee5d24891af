import { Type } from 'typebox';
import { maskPhone } from '../../lib/phone.ts';
import type { BackendTables } from '../schema.ts';
import type { OrderStatus } from './order-state.ts';

export interface OrderView {
  orderId: string;
  productId: string;
  title: string;
  amountMinor: number;
  currency: string;
  status: OrderStatus;
  channel: 'sms_confirm' | 'wap_link' | null;
  payerPhoneMasked: string | null;
  payUrl: string | null;
  failureCode: string | null;
  createdAt: string;
  expiresAt: string;
  paidAt: string | null;
  fulfilledAt: string | null;
}

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

export const OrderSchema = Type.Object({
  orderId: Type.String(),
  productId: Type.String(),
  title: Type.String(),
  amountMinor: Type.Integer(),
  currency: Type.String(),
  status: Type.String(),
  channel: Nullable(Type.String()),
  payerPhoneMasked: Nullable(Type.String()),
  payUrl: Nullable(Type.String()),
  failureCode: Nullable(Type.String()),
  createdAt: Type.String(),
  expiresAt: Type.String(),
  paidAt: Nullable(Type.String()),
  fulfilledAt: Nullable(Type.String()),
});

export const AdminOrderSchema = Type.Intersect([OrderSchema, Type.Object({ payerPhone: Nullable(Type.String()), deviceId: Type.String(), accountId: Type.String() })]);

/** What a TV may see of an order: the phone only masked, the pay link once a payer is known. */
export function toOrderView(o: BackendTables['orders'], checkoutUrl: (token: string) => string): OrderView {
  return {
    orderId: o.id,
    productId: o.product_id,
    title: o.title,
    amountMinor: Number(o.amount_minor),
    currency: o.currency,
    status: o.status,
    channel: o.channel,
    payerPhoneMasked: o.payer_phone ? maskPhone(o.payer_phone) : null,
    payUrl: o.attempt > 0 ? checkoutUrl(o.link_token) : null,
    failureCode: o.failure_code,
    createdAt: o.created_at,
    expiresAt: o.expires_at,
    paidAt: o.paid_at,
    fulfilledAt: o.fulfilled_at,
  };
}

import { Type, type Static } from 'typebox';

/**
 * What the back-end's TV API answers, written once: the routes serialise by
 * these schemas, the back-end builds values of these types, and the TV app
 * imports the types (type-only, so nothing of this reaches its bundle).
 */

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

export const ProductSchema = Type.Object({
  productId: Type.String(),
  title: Type.String(),
  amountMinor: Type.Integer(),
  currency: Type.String(),
  service: Type.String(),
  durationDays: Type.Integer(),
});
export type Product = Static<typeof ProductSchema>;

export const OrderStatusSchema = Type.Union([
  Type.Literal('created'),
  Type.Literal('awaiting_payment'),
  Type.Literal('paid'),
  Type.Literal('fulfilled'),
  Type.Literal('failed'),
  Type.Literal('expired'),
  Type.Literal('cancelled'),
]);
export const ChannelSchema = Type.Union([Type.Literal('sms_confirm'), Type.Literal('wap_link'), Type.Null()]);

export const OrderSchema = Type.Object({
  orderId: Type.String(),
  productId: Type.String(),
  title: Type.String(),
  amountMinor: Type.Integer(),
  currency: Type.String(),
  status: OrderStatusSchema,
  channel: ChannelSchema,
  payerPhoneMasked: Nullable(Type.String()),
  payUrl: Nullable(Type.String()),
  failureCode: Nullable(Type.String()),
  createdAt: Type.String(),
  expiresAt: Type.String(),
  paidAt: Nullable(Type.String()),
  fulfilledAt: Nullable(Type.String()),
});
export type Order = Static<typeof OrderSchema>;

export const AdminOrderSchema = Type.Intersect([OrderSchema, Type.Object({ payerPhone: Nullable(Type.String()), deviceId: Type.String(), accountId: Type.String() })]);

export const EntitlementSchema = Type.Object({ service: Type.String(), productId: Type.String(), orderId: Type.String(), validFrom: Type.String(), validUntil: Type.String() });
export type Entitlement = Static<typeof EntitlementSchema>;

import { PaidWith, RailName } from './provider-api.ts';
import { Type, type Static } from 'typebox';
import { stringFields } from '../lib/http/schemas.ts';

/**
 * What the back-end's TV API answers, written once: the routes serialise by
 * these schemas, the back-end builds values of these types, and the TV app
 * imports the types (type-only, so nothing of this reaches its bundle).
 */

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

/** A package's words in one TV language. */
export const ProductWordsSchema = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' }),
    description: Type.Optional(Type.String({ maxLength: 400 })),
  },
  { additionalProperties: false },
);

/** The languages the TV speaks; a product may have words for each (else its `title` and `description` are used). */
export const LocalizedSchema = Type.Object(
  { 'zh-CN': Type.Optional(ProductWordsSchema), en: Type.Optional(ProductWordsSchema) },
  { additionalProperties: false },
);
export type Localized = Static<typeof LocalizedSchema>;

export const ProductSchema = Type.Object({
  productId: Type.String(),
  /** The name in SMS, receipts, statements and the TV's default language. */
  title: Type.String(),
  /** What the package gives, for the TV's package screen ('' when none was given). */
  description: Type.String(),
  /** Title and description per TV language, where the operator gave them. */
  localized: LocalizedSchema,
  amountMinor: Type.Integer(),
  currency: Type.String(),
  service: Type.String(),
  durationDays: Type.Integer(),
  /** It renews every `durationDays` under the payer's quick-pay agreement, until cancelled. */
  renews: Type.Boolean(),
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
  Type.Literal('refunded'),
]);
export const ChannelSchema = Type.Union([
  Type.Literal('sms_confirm'),
  Type.Literal('wap_link'),
  Type.Literal('renewal'),
  /** Paid by scanning a money rail's QR code on the TV (`POST /v1/orders/{orderId}/scan`). */
  Type.Literal('scan'),
  Type.Null(),
]);

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
  /** What succeeded refunds gave back, in minor units. */
  refundedMinor: Type.Integer(),
  /** For a code SMS: how many wrong replies remain (5 at first), else null. */
  triesLeft: Type.Union([Type.Integer(), Type.Null()]),
  /** Once paid: what paid it at the payment server, the wallet or the linked bank card. */
  paidWith: Type.Union([PaidWith, Type.Null()]),
});
export type Order = Static<typeof OrderSchema>;

/** What operators (and their systems, in webhooks) see of an order. */
export const AdminOrderSchema = Type.Intersect([
  OrderSchema,
  Type.Object({
    payerPhone: Nullable(Type.String()),
    deviceId: Type.String(),
    accountId: Type.String(),
    paymentId: Nullable(Type.String()),
    subscriptionId: Nullable(Type.String()),
  }),
]);
export type AdminOrder = Static<typeof AdminOrderSchema>;

/** A service the TV's subscriber has; `refunded`: the purchase that last extended it was refunded in full. */
export const EntitlementSchema = Type.Object({
  ...stringFields('service', 'productId', 'orderId', 'validFrom', 'validUntil'),
  refunded: Type.Boolean(),
  /** What paid the purchase that last extended it ("my services" says so), or null. */
  paidWith: Type.Union([PaidWith, Type.Null()]),
});
export type Entitlement = Static<typeof EntitlementSchema>;

export const SubscriptionSchema = Type.Object({
  ...stringFields('subscriptionId', 'accountId', 'productId', 'service', 'title'),
  amountMinor: Type.Integer(),
  currency: Type.String(),
  payerPhoneMasked: Type.String(),
  status: Type.Union([Type.Literal('active'), Type.Literal('cancelled'), Type.Literal('lapsed')]),
  currentPeriodEnd: Type.String(),
  nextChargeAt: Nullable(Type.String()),
  cancelledAt: Nullable(Type.String()),
  createdAt: Type.String(),
});
export type Subscription = Static<typeof SubscriptionSchema>;

/** `GET /v1/rails`: the money rails that are on, each with what the TV labels its QR code with. */
export const RailsSchema = Type.Array(
  Type.Object({ rail: RailName, title: Type.Object({ 'zh-CN': Type.String(), en: Type.String() }) }),
);
export type Rails = Static<typeof RailsSchema>;

/** `POST /v1/orders/{orderId}/scan`: the rail whose QR code the TV shows. */
export const ScanBodySchema = Type.Object({ rail: RailName }, { additionalProperties: false });

/** The text to draw as a QR code for the rail's app to scan and pay (the rail's own code, unchanged). */
export const ScanSchema = Type.Object({ rail: RailName, qrText: Type.String(), expiresAt: Type.String() });
export type Scan = Static<typeof ScanSchema>;

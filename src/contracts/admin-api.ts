import { Type, type Static } from 'typebox';
import { QueryLimit, stringFields } from '../lib/http/schemas.ts';
import { MAX_AMOUNT_MINOR } from '../lib/money.ts';
import { AdminOrderSchema } from './tv-api.ts';

/**
 * What the back-end's operator API takes and answers beyond the TV's (API
 * "Operating tvpay"), written once: routes validate and serialise by these
 * schemas and the services build values of these types.
 */

const Nullable = <T extends ReturnType<typeof Type.String | typeof Type.Integer>>(t: T) => Type.Union([t, Type.Null()]);

export const RefundSchema = Type.Object({
  refundId: Type.String(),
  orderId: Type.String(),
  amountMinor: Type.Integer(),
  currency: Type.String(),
  reason: Type.String(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed')]),
  failureCode: Nullable(Type.String()),
  createdAt: Type.String(),
  completedAt: Nullable(Type.String()),
});
export type Refund = Static<typeof RefundSchema>;

export const RefundInput = Type.Object(
  {
    amountMinor: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_AMOUNT_MINOR,
        description: 'Minor units; without it, all that is left to refund.',
      }),
    ),
    reason: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' }),
  },
  { additionalProperties: false },
);

export const WebhookInput = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: 2048 }),
    events: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 32 }),
  },
  { additionalProperties: false },
);

export const WebhookSchema = Type.Object({
  webhookId: Type.String(),
  url: Type.String(),
  events: Type.Array(Type.String()),
  createdAt: Type.String(),
});
export type Webhook = Static<typeof WebhookSchema>;
export const NewWebhookSchema = Type.Intersect([WebhookSchema, Type.Object({ secret: Type.String() })]);

export const DeliverySchema = Type.Object({
  ...stringFields('deliveryId', 'eventId', 'type'),
  status: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')]),
  attempts: Type.Integer(),
  lastStatusCode: Nullable(Type.Integer()),
  lastAttemptAt: Nullable(Type.String()),
  nextAttemptAt: Nullable(Type.String()),
});
export type Delivery = Static<typeof DeliverySchema>;

export const TimelineEntrySchema = Type.Object(
  { at: Type.String(), kind: Type.String(), summary: Type.String() },
  { additionalProperties: true },
);

const RFC3339 = '^\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+-]\\d{2}:\\d{2}))?$';

export const OrderListQuery = Type.Object(
  {
    status: Type.Optional(Type.String({ maxLength: 24 })),
    phone: Type.Optional(Type.String({ maxLength: 64 })),
    deviceId: Type.Optional(Type.String({ maxLength: 64 })),
    accountId: Type.Optional(Type.String({ maxLength: 128 })),
    paymentId: Type.Optional(Type.String({ maxLength: 64 })),
    refundId: Type.Optional(Type.String({ maxLength: 64 })),
    from: Type.Optional(
      Type.String({ pattern: RFC3339, description: 'RFC 3339 time or a date; orders created at or after it.' }),
    ),
    to: Type.Optional(
      Type.String({ pattern: RFC3339, description: 'RFC 3339 time or a date; orders created before it.' }),
    ),
    limit: Type.Optional(QueryLimit),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type OrderListQuery = Static<typeof OrderListQuery>;

export const OrderListSchema = Type.Object({
  items: Type.Array(AdminOrderSchema),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});

export const DeviceSchema = Type.Object({
  ...stringFields('deviceId', 'name', 'accountId', 'createdAt'),
  revokedAt: Nullable(Type.String()),
});
export type DeviceListing = Static<typeof DeviceSchema>;

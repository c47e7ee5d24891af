import { Type, type Static } from 'typebox';
import { stringFields } from '../lib/http/schemas.ts';
import { MAX_AMOUNT_MINOR } from '../lib/money.ts';

/**
 * The messages between the back-end and a payment server: the wire contract
 * of the provider interface, written once. The receiving side validates with
 * these schemas, the sending side is typed by them (`Static<>`), and every
 * message is HMAC-signed over its bytes.
 */

const Currency = Type.String({ pattern: '^[A-Z]{3}$' });
const Id = Type.String({ minLength: 1, maxLength: 64 });

/**
 * What a QR-code sale and a renewal charge both carry about the sale, written once so the two
 * messages cannot drift apart (the keys keep their place in each message's schema).
 */
const SaleTerms = {
  amountMinor: Type.Integer({ minimum: 1, maximum: MAX_AMOUNT_MINOR }),
  currency: Currency,
  productTitle: Type.String({ maxLength: 200 }),
  payee: Type.String({ maxLength: 64 }),
  deviceId: Type.String({ maxLength: 64 }),
  expiresAt: Type.String({ maxLength: 32 }),
};

/** What paid an order: the payment server's own wallet or linked card, or a money rail. */
export const PaidWith = Type.Union([
  Type.Literal('wallet'),
  Type.Literal('card'),
  Type.Literal('alipay'),
  Type.Literal('wechatpay'),
]);
export type PaidWith = Static<typeof PaidWith>;

/** A money rail a TV can show a QR code of. */
export const RailName = Type.Union([Type.Literal('alipay'), Type.Literal('wechatpay')]);

/** Payment server → back-end: the rails that are on (`GET /internal/v1/rails`), with what a person reads. */
export const RailsAnswer = Type.Array(
  Type.Object({ rail: RailName, title: Type.Object({ 'zh-CN': Type.String(), en: Type.String() }) }),
);
export type RailsAnswer = Static<typeof RailsAnswer>;

/**
 * Back-end → payment server: a QR code for a TV to show for an order (`POST /internal/v1/rails/scan`).
 * The same order and rail give the same `qrText` while it is valid. The order's checkout row at the
 * payment server is made here if no payer attempt made it yet (it stays the order's one lock).
 * Refused with 409 `RAIL_UNAVAILABLE` (the rail is off) or `ORDER_FINAL` (the order ended or was paid).
 */
export const ScanRequest = Type.Object(
  {
    orderId: Id,
    rail: RailName,
    ...SaleTerms,
    renewsEveryDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3660 })),
  },
  { additionalProperties: false },
);
export type ScanRequest = Static<typeof ScanRequest>;
export const ScanAnswer = Type.Object({ rail: RailName, qrText: Type.String(), expiresAt: Type.String() });
export type ScanAnswer = Static<typeof ScanAnswer>;

/** Back-end → payment server: is this phone bound (an active quick-pay agreement)? */
export const BindingLookup = Type.Object({ phone: Type.String({ maxLength: 32 }) }, { additionalProperties: false });
export const BindingAnswer = Type.Object({ bound: Type.Boolean() });

/** Back-end → payment server: start one payer attempt of an order. Idempotent per (orderId, attempt). */
export const StartPaymentRequest = Type.Object(
  {
    orderId: Id,
    attempt: Type.Integer({ minimum: 1 }),
    /** `sms_confirm`: the back-end judged the phone bound (pre-pay); `wap_link`: checkout page only. */
    mode: Type.Union([Type.Literal('sms_confirm'), Type.Literal('wap_link')]),
    phone: Type.String({ maxLength: 32 }),
    amountMinor: Type.Integer({ minimum: 1, maximum: MAX_AMOUNT_MINOR }),
    currency: Currency,
    productTitle: Type.String({ maxLength: 200 }),
    payee: Type.String({ maxLength: 64 }),
    linkToken: Type.String({ minLength: 22, maxLength: 128 }),
    deviceId: Type.String({ maxLength: 64 }),
    expiresAt: Type.String({ maxLength: 32 }),
    /**
     * The product renews every this many days: the code SMS and the checkout page say so, and confirming is consent.
     */
    renewsEveryDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3660 })),
  },
  { additionalProperties: false },
);
export type StartPaymentRequest = Static<typeof StartPaymentRequest>;

/** What the payment server answers a start (serialised by this schema: nothing else leaves). */
export const StartPaymentResult = Type.Object({
  state: Type.Union([
    Type.Literal('pending_confirmation'),
    Type.Literal('awaiting_checkout'),
    Type.Literal('failed'),
    Type.Literal('superseded'),
    Type.Literal('closed'),
    Type.Literal('paid'),
  ]),
  failureCode: Type.Union([Type.String(), Type.Null()]),
});
export type StartPaymentResult = Static<typeof StartPaymentResult>;

/** Back-end → payment server: the order ended; the answer says whether a payment had won first. */
export const CloseParams = Type.Object({ orderId: Id });
export const CloseAnswer = Type.Object({ state: Type.Union([Type.Literal('closed'), Type.Literal('paid')]) });

/**
 * Back-end → payment server: the viewer changed the number, so the order's pending attempt ended without a
 * new payer (`POST /internal/v1/orders/{orderId}/attempts/end`). `attempt` is the order's attempt number
 * now: every pending payment of an older attempt is released (its code is refused, its hold given back)
 * and a start of an older attempt is superseded. Idempotent; the answer says whether a payment had won first.
 */
export const EndAttemptRequest = Type.Object(
  { attempt: Type.Integer({ minimum: 1 }) },
  { additionalProperties: false },
);
export type EndAttemptRequest = Static<typeof EndAttemptRequest>;
export const EndAttemptAnswer = Type.Object({
  state: Type.Union([Type.Literal('ended'), Type.Literal('paid'), Type.Literal('closed')]),
});
export type EndAttemptAnswer = Static<typeof EndAttemptAnswer>;

/**
 * Back-end → payment server: give (part of) a captured payment back, to the
 * source it came from. Idempotent on `refundId`: asked again, the payment
 * server answers what it did the first time and moves no more money.
 */
export const RefundRequest = Type.Object(
  {
    refundId: Id,
    orderId: Id,
    paymentId: Id,
    amountMinor: Type.Integer({ minimum: 1, maximum: MAX_AMOUNT_MINOR }),
    currency: Currency,
    reason: Type.String({ minLength: 1, maxLength: 200 }),
  },
  { additionalProperties: false },
);
export type RefundRequest = Static<typeof RefundRequest>;

/** What the payment server did with a refund; the back-end learns it again by a PaymentEvent. */
export const RefundAnswer = Type.Object({
  /** `pending`: a rail's refund whose outcome is not learnt yet; the PaymentEvent follows when it is. */
  status: Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed')]),
  failureCode: Type.Union([Type.String(), Type.Null()]),
});
export type RefundAnswer = Static<typeof RefundAnswer>;

/**
 * Payment server → back-end: a payment's outcome (the patent's S208), or a
 * refund's, delivered at least once. A refund's event carries `refundId`; a
 * refund the back-end did not ask for (the payment server gave back a payment
 * the back-end refused, see PaymentEventAnswer) has an id the back-end has
 * not seen, and the back-end records it.
 */
export const PaymentEvent = Type.Object(
  {
    messageId: Id,
    type: Type.Union([
      Type.Literal('payment.completed'),
      Type.Literal('payment.failed'),
      Type.Literal('refund.succeeded'),
      Type.Literal('refund.failed'),
      Type.Literal('payment.code_rejected'),
    ]),
    refundId: Type.Optional(Id),
    /** On `payment.code_rejected`: the wrong replies the code has left. */
    triesLeft: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
    orderId: Type.String({ maxLength: 64 }),
    attempt: Type.Integer({ minimum: 0 }),
    paymentId: Type.String({ maxLength: 64 }),
    amountMinor: Type.Integer({ minimum: 0, maximum: MAX_AMOUNT_MINOR }),
    currency: Currency,
    failureCode: Type.Union([Type.String({ maxLength: 64 }), Type.Null()]),
    /**
     * On `payment.completed` of a renewing product: the payer consented to renewals under quick pay (the SMS code, or
     * the page's quick-pay box).
     */
    renewalConsent: Type.Optional(Type.Boolean()),
    /** On `payment.completed`: what paid it, the wallet or the linked bank card (the TV's success says so). */
    source: Type.Optional(PaidWith),
    /** On `payment.completed` by a rail's QR (`POST /v1/orders/{id}/scan`): the order's channel becomes `scan`. */
    channel: Type.Optional(Type.Literal('scan')),
    at: Type.String({ maxLength: 32 }),
  },
  { additionalProperties: false },
);
export type PaymentEvent = Static<typeof PaymentEvent>;

/**
 * The back-end's answer to a PaymentEvent. `applied`: the order took it;
 * `ignored`: it changed nothing (late, or for a superseded attempt);
 * `rejected`: a completed payment the order cannot take (it ended, or another
 * payment won), which the payment server then refunds.
 */
export const PaymentEventAnswer = Type.Object({
  result: Type.Union([Type.Literal('applied'), Type.Literal('ignored'), Type.Literal('rejected')]),
  duplicate: Type.Boolean(),
});
export type PaymentEventAnswer = Static<typeof PaymentEventAnswer>;

/** Back-end → payment server: the SMS it sent for some orders' payments and refunds (the operator's SMS page). */
export const OrdersSmsRequest = Type.Object(
  { orderIds: Type.Array(Id, { minItems: 1, maxItems: 50 }) },
  { additionalProperties: false },
);
export type OrdersSmsRequest = Static<typeof OrdersSmsRequest>;
export const OrdersSms = Type.Object({
  items: Type.Array(
    Type.Object({
      ...stringFields('orderId', 'smsId', 'kind', 'status', 'to', 'createdAt', 'updatedAt'),
    }),
  ),
});
export type OrdersSms = Static<typeof OrdersSms>;

/** Back-end → payment server: what the payment server knows of an order, for its timeline. */
export const OrderTrace = Type.Object({
  payments: Type.Array(
    Type.Object({
      paymentId: Type.String(),
      method: Type.String(),
      status: Type.String(),
      source: Type.Union([Type.String(), Type.Null()]),
      amountMinor: Type.Integer(),
      refundedMinor: Type.Integer(),
      failureCode: Type.Union([Type.String(), Type.Null()]),
      createdAt: Type.String(),
      completedAt: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
  sms: Type.Array(
    Type.Object({
      ...stringFields('smsId', 'kind', 'status', 'createdAt', 'updatedAt'),
    }),
  ),
  /**
   * The order's trades at the money rails and, in order, each call tvpay made about them and each
   * notification it took: only what was done and what it learnt, never a key, a signature or a body.
   * Optional: a payment server without rails leaves it out.
   */
  rails: Type.Optional(
    Type.Array(
      Type.Object({
        rail: Type.String(),
        outTradeNo: Type.String(),
        providerTradeNo: Type.Union([Type.String(), Type.Null()]),
        state: Type.String(),
        paymentId: Type.String(),
        createdAt: Type.String(),
        events: Type.Array(
          Type.Object({
            /** `start`, `query`, `close`, `refund`, `query_refund`, `notification`. */
            kind: Type.String(),
            /** What was learnt, one word: `qr`, `paid`, `unknown`, `refused`, `succeeded`… */
            outcome: Type.String(),
            at: Type.String(),
          }),
        ),
      }),
    ),
  ),
});
export type OrderTrace = Static<typeof OrderTrace>;

/**
 * Back-end → payment server: charge a renewal under the payer's quick-pay
 * agreement (wallet, else the card; no code: the payer consented and was
 * told). Idempotent on `orderId`; the outcome arrives as a PaymentEvent.
 */
export const RenewalRequest = Type.Object(
  {
    orderId: Id,
    phone: Type.String({ maxLength: 32 }),
    ...SaleTerms,
    renewsEveryDays: Type.Integer({ minimum: 1, maximum: 3660 }),
  },
  { additionalProperties: false },
);
export type RenewalRequest = Static<typeof RenewalRequest>;

/** Back-end → payment server (forwarded): a phone replied TD (or 取消, 退订…) to cancel its renewals. */
export const CancelByPhone = Type.Object({ phone: Type.String({ maxLength: 32 }) }, { additionalProperties: false });
export const CancelByPhoneAnswer = Type.Object({ cancelled: Type.Integer() });

/** One row of the payment server's daily statement (API "Reconciliation"). */
export const StatementRowSchema = Type.Object({
  type: Type.Union([Type.Literal('payment'), Type.Literal('refund')]),
  payment_id: Type.String(),
  refund_id: Type.String(),
  order_id: Type.String(),
  amount_minor: Type.Integer(),
  currency: Type.String(),
  source: Type.String(),
  at: Type.String(),
});
export type StatementRow = Static<typeof StatementRowSchema>;

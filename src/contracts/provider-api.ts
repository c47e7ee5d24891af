import { Type, type Static } from 'typebox';
import { MAX_AMOUNT_MINOR } from '../lib/money.ts';

/**
 * The messages between the back-end and a payment server: the wire contract
 * of the provider interface, written once. The receiving side validates with
 * these schemas, the sending side is typed by them (`Static<>`), and every
 * message is HMAC-signed over its bytes.
 */

const Currency = Type.String({ pattern: '^[A-Z]{3}$' });
const Id = Type.String({ minLength: 1, maxLength: 64 });

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

/** Payment server → back-end: a payment's outcome (the patent's S208), delivered at least once. */
export const PaymentEvent = Type.Object(
  {
    messageId: Id,
    type: Type.Union([Type.Literal('payment.completed'), Type.Literal('payment.failed')]),
    orderId: Type.String({ maxLength: 64 }),
    attempt: Type.Integer({ minimum: 0 }),
    paymentId: Type.String({ maxLength: 64 }),
    amountMinor: Type.Integer({ minimum: 0, maximum: MAX_AMOUNT_MINOR }),
    currency: Currency,
    failureCode: Type.Union([Type.String({ maxLength: 64 }), Type.Null()]),
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

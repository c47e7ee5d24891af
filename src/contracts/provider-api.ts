/**
 * The messages between the back-end and a payment server: the wire contract
 * of the provider interface. Both sides sign every message (HMAC) and each
 * side validates what it receives with its own schema.
 */

/** Back-end → payment server: start one payer attempt of an order. Idempotent per (orderId, attempt). */
export interface StartPaymentRequest {
  orderId: string;
  attempt: number;
  /** `sms_confirm`: the back-end judged the phone bound (pre-pay); `wap_link`: checkout page only. */
  mode: 'sms_confirm' | 'wap_link';
  phone: string;
  amountMinor: number;
  currency: string;
  productTitle: string;
  payee: string;
  linkToken: string;
  deviceId: string;
  expiresAt: string;
}

export interface StartPaymentResult {
  state: 'pending_confirmation' | 'awaiting_checkout' | 'failed' | 'superseded' | 'closed' | 'paid';
  failureCode: string | null;
}

/** Payment server → back-end: a payment's outcome (the patent's S208), delivered at least once. */
export interface PaymentEvent {
  messageId: string;
  type: 'payment.completed' | 'payment.failed';
  orderId: string;
  attempt: number;
  paymentId: string;
  amountMinor: number;
  currency: string;
  failureCode: string | null;
  at: string;
}

/**
 * The back-end's answer to a PaymentEvent. `applied`: the order took it;
 * `ignored`: it changed nothing (late, or for a superseded attempt);
 * `rejected`: a completed payment the order cannot take (it ended, or another
 * payment won), which the payment server then refunds.
 */
export interface PaymentEventAnswer {
  result: 'applied' | 'ignored' | 'rejected';
  duplicate: boolean;
}

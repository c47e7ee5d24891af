import type {
  StartPaymentRequest,
  StartPaymentResult,
  RefundAnswer,
  RefundRequest,
  OrderTrace,
  OrdersSms,
  RenewalRequest,
  StatementRow,
} from '../../contracts/provider-api.ts';

/**
 * How the back-end reaches a payment server (the patent's payment server, or
 * another wallet or bank behind the same calls). tvpay's own payment
 * server is the reference provider.
 */
export interface PaymentProvider {
  /** Whether the phone has an active quick-pay agreement (is "bound"). */
  isBound(phone: string): Promise<boolean>;
  /** Starts one payer attempt: a pre-pay (bound) or a checkout link (not bound). Idempotent per (orderId, attempt). */
  startPayment(request: StartPaymentRequest): Promise<StartPaymentResult>;
  /** Ends an order at the provider: nothing more may be paid for it and anything held is released. */
  closeOrder(orderId: string): Promise<void>;
  /**
   * Asks for (part of) a captured payment back, to where it came from.
   * Idempotent per `refundId`; the outcome also arrives as a signed
   * `refund.succeeded` or `refund.failed` message, which is what counts.
   */
  refund(request: RefundRequest): Promise<RefundAnswer>;
  /** What the provider knows of an order (its payments and the SMS it sent for them), for the order's timeline. */
  trace(orderId: string): Promise<OrderTrace>;
  /** The SMS the provider sent for some orders (at most 50), for the operator's SMS page. */
  smsOfOrders(orderIds: string[]): Promise<OrdersSms>;
  /** Charges a renewal under the payer's agreement; idempotent per order. The outcome arrives as a payment event. */
  renew(request: RenewalRequest): Promise<StartPaymentResult>;
  /** The provider's statement of a business day: every capture and refund whose money moved that day. */
  statement(date: string): Promise<StatementRow[]>;
  /** The phone checkout page for a link token. */
  checkoutUrl(linkToken: string): string;
}

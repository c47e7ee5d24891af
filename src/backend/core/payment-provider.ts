import type {
  RailsAnswer,
  ScanAnswer,
  ScanRequest,
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
  /**
   * Ends the order's pending attempt without a new payer ("change number" on the TV): `attempt` is the
   * order's attempt now; older attempts' pending payments are refused and their holds released. Idempotent.
   */
  endAttempt(orderId: string, attempt: number): Promise<void>;
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
  /** The money rails that are on now, with what a person reads. */
  rails(): Promise<RailsAnswer>;
  /**
   * A QR code for a TV to show for an order on a rail; the same while valid. Refused (a 409 `PeerError`)
   * with `RAIL_UNAVAILABLE` when the rail is off, `ORDER_FINAL` when the order ended or was paid.
   */
  scan(request: ScanRequest): Promise<ScanAnswer>;
  /** The phone checkout page for a link token. */
  checkoutUrl(linkToken: string): string;
}

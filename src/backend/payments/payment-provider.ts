import type { StartPaymentRequest, StartPaymentResult } from '../../contracts/provider-api.ts';

/**
 * How the back-end reaches a payment server (the patent's payment server, or
 * another wallet or bank behind the same four calls). tvpay's own payment
 * server is the reference provider.
 */
export interface PaymentProvider {
  /** Whether the phone has an active quick-pay agreement (is "bound"). */
  isBound(phone: string): Promise<boolean>;
  /** Starts one payer attempt: a pre-pay (bound) or a checkout link (not bound). Idempotent per (orderId, attempt). */
  startPayment(request: StartPaymentRequest): Promise<StartPaymentResult>;
  /** Ends an order at the provider: nothing more may be paid for it and anything held is released. */
  closeOrder(orderId: string): Promise<void>;
  /** The phone checkout page for a link token. */
  checkoutUrl(linkToken: string): string;
}

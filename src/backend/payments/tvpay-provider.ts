import type { SignedClient } from '../../lib/http/service-auth.ts';
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
import type { PaymentProvider } from '../core/payment-provider.ts';

/** tvpay's payment server as the back-end's provider, over HMAC-signed HTTP. */
export class TvpayProvider implements PaymentProvider {
  constructor(
    private readonly client: SignedClient,
    private readonly publicUrl: string,
  ) {}

  async isBound(phone: string): Promise<boolean> {
    return (await this.client.post<{ bound: boolean }>('/internal/v1/bindings/lookup', { phone })).bound;
  }

  startPayment(request: StartPaymentRequest): Promise<StartPaymentResult> {
    return this.client.post<StartPaymentResult>('/internal/v1/payments', request);
  }

  async endAttempt(orderId: string, attempt: number): Promise<void> {
    await this.client.post(`/internal/v1/orders/${encodeURIComponent(orderId)}/attempts/end`, { attempt });
  }

  async closeOrder(orderId: string): Promise<void> {
    await this.client.post(`/internal/v1/orders/${encodeURIComponent(orderId)}/close`, {});
  }

  refund(request: RefundRequest): Promise<RefundAnswer> {
    return this.client.post<RefundAnswer>('/internal/v1/refunds', request);
  }

  smsOfOrders(orderIds: string[]): Promise<OrdersSms> {
    return this.client.post<OrdersSms>('/internal/v1/sms/of-orders', { orderIds });
  }

  trace(orderId: string): Promise<OrderTrace> {
    return this.client.post<OrderTrace>(`/internal/v1/orders/${encodeURIComponent(orderId)}/trace`, {});
  }

  renew(request: RenewalRequest): Promise<StartPaymentResult> {
    return this.client.post<StartPaymentResult>('/internal/v1/renewals', request);
  }

  statement(date: string): Promise<StatementRow[]> {
    return this.client.post<StatementRow[]>(`/internal/v1/statements/${encodeURIComponent(date)}`, {});
  }

  rails(): Promise<RailsAnswer> {
    return this.client.get<RailsAnswer>('/internal/v1/rails');
  }

  scan(request: ScanRequest): Promise<ScanAnswer> {
    return this.client.post<ScanAnswer>('/internal/v1/rails/scan', request);
  }

  checkoutUrl(linkToken: string): string {
    return `${this.publicUrl}/pay/${linkToken}`;
  }
}

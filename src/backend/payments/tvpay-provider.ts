import type { SignedClient } from '../../lib/http/service-auth.ts';
import type * as Api from '../../contracts/provider-api.ts';
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

  startPayment(request: Api.StartPaymentRequest): Promise<Api.StartPaymentResult> {
    return this.client.post<Api.StartPaymentResult>('/internal/v1/payments', request);
  }

  async endAttempt(orderId: string, attempt: number): Promise<void> {
    await this.client.post(`/internal/v1/orders/${encodeURIComponent(orderId)}/attempts/end`, { attempt });
  }

  async closeOrder(orderId: string): Promise<void> {
    await this.client.post(`/internal/v1/orders/${encodeURIComponent(orderId)}/close`, {});
  }

  refund(request: Api.RefundRequest): Promise<Api.RefundAnswer> {
    return this.client.post<Api.RefundAnswer>('/internal/v1/refunds', request);
  }

  smsOfOrders(orderIds: string[]): Promise<Api.OrdersSms> {
    return this.client.post<Api.OrdersSms>('/internal/v1/sms/of-orders', { orderIds });
  }

  trace(orderId: string): Promise<Api.OrderTrace> {
    return this.client.post<Api.OrderTrace>(`/internal/v1/orders/${encodeURIComponent(orderId)}/trace`, {});
  }

  renew(request: Api.RenewalRequest): Promise<Api.StartPaymentResult> {
    return this.client.post<Api.StartPaymentResult>('/internal/v1/renewals', request);
  }

  statement(date: string): Promise<Api.StatementRow[]> {
    return this.client.post<Api.StatementRow[]>(`/internal/v1/statements/${encodeURIComponent(date)}`, {});
  }

  rails(): Promise<Api.RailsAnswer> {
    return this.client.get<Api.RailsAnswer>('/internal/v1/rails');
  }

  scan(request: Api.ScanRequest): Promise<Api.ScanAnswer> {
    return this.client.post<Api.ScanAnswer>('/internal/v1/rails/scan', request);
  }

  checkoutUrl(linkToken: string): string {
    return `${this.publicUrl}/pay/${linkToken}`;
  }
}

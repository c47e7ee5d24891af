import type { SignedClient } from '../../lib/http/service-auth.ts';
import type { StartPaymentRequest, StartPaymentResult } from '../../contracts/provider-api.ts';
import type { PaymentProvider } from './payment-provider.ts';

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

  async closeOrder(orderId: string): Promise<void> {
    await this.client.post(`/internal/v1/orders/${encodeURIComponent(orderId)}/close`, {});
  }

  checkoutUrl(linkToken: string): string {
    return `${this.publicUrl}/pay/${linkToken}`;
  }
}

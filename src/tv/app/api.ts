/** The back-end's TV API, as this TV (its device token) may call it. */
import type { Entitlement, Order, Product, Rails, Scan, Subscription } from '../../contracts/tv-api.ts';

export type { Entitlement, Order, Product, Rails, Scan, Subscription };

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class TvApi {
  constructor(private readonly token: string) {}

  /** The back-end's clock minus this TV's, from the last answer's `x-server-now` (a TV's clock may be anything). */
  private clockOffsetMs = 0;

  /** Now by the back-end's clock: what an order's `expiresAt` counts down against. */
  serverNow(): number {
    return Date.now() + this.clockOffsetMs;
  }

  /**
   * The correlation id of the checkout in progress: sent with each request, so one payment is followed across the
   * services.
   */
  correlationId: string | undefined;

  /**
   * `idempotencyKey`: the same key on a retry makes the back-end answer the first request's outcome, never act twice.
   */
  private async call<T>(method: string, path: string, body?: unknown, idempotencyKey?: string): Promise<T> {
    let res: Response;
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
    if (this.correlationId) headers['x-correlation-id'] = this.correlationId;
    try {
      res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch {
      throw new ApiError(0, 'network', 'network');
    }
    const serverNow = Date.parse(res.headers.get('x-server-now') || '');
    if (!Number.isNaN(serverNow)) this.clockOffsetMs = serverNow - Date.now();
    const text = await res.text().catch(() => '');
    let data: { code?: string; detail?: string } | null = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (!res.ok)
      throw new ApiError(res.status, (data && data.code) || 'other', (data && data.detail) || res.statusText);
    return data as T;
  }

  products(): Promise<Product[]> {
    return this.call('GET', '/v1/products');
  }
  createOrder(productId: string, idempotencyKey: string): Promise<Order> {
    return this.call('POST', '/v1/orders', { productId }, idempotencyKey);
  }
  submitPayer(orderId: string, phone: string, idempotencyKey: string): Promise<Order> {
    return this.call('POST', `/v1/orders/${orderId}/payer`, { phone }, idempotencyKey);
  }
  order(orderId: string): Promise<Order> {
    return this.call('GET', `/v1/orders/${orderId}`);
  }
  /** "Change number": ends the pending attempt (its code is refused, its hold released); the order stays open. */
  dropPayer(orderId: string): Promise<Order> {
    return this.call('POST', `/v1/orders/${orderId}/payer/cancel`);
  }
  cancel(orderId: string): Promise<Order> {
    return this.call('POST', `/v1/orders/${orderId}/cancel`);
  }
  /** The money rails that are on, each with its app's name in both languages. */
  rails(): Promise<Rails> {
    return this.call('GET', '/v1/rails');
  }
  /** The text of a rail's QR code for the order (the same while valid). */
  scan(orderId: string, rail: string): Promise<Scan> {
    return this.call('POST', `/v1/orders/${orderId}/scan`, { rail });
  }
  entitlements(): Promise<Entitlement[]> {
    return this.call('GET', '/v1/entitlements');
  }
  subscriptions(): Promise<Subscription[]> {
    return this.call('GET', '/v1/subscriptions');
  }
  cancelSubscription(id: string, idempotencyKey: string): Promise<Subscription> {
    return this.call('POST', `/v1/subscriptions/${id}/cancel`, undefined, idempotencyKey);
  }

  async qrSvg(orderId: string): Promise<string> {
    const res = await fetch(`/v1/orders/${orderId}/pay-qr.svg`, { headers: { authorization: `Bearer ${this.token}` } });
    return res.ok ? res.text() : '';
  }

  /**
   * Follows an order live: the event stream where the browser has
   * EventSource (it reconnects by itself after a drop), polling otherwise or
   * when the stream keeps failing. Returns a function that stops it.
   * `onConnection` hears whether the back-end can be reached, so the TV can
   * say "reconnecting…" instead of a countdown that means nothing.
   */
  watch(orderId: string, onOrder: (o: Order) => void, onConnection: (ok: boolean) => void = () => {}): () => void {
    let stopped = false;
    let es: EventSource | null = null;
    let timer: number | undefined;
    const poll = () => {
      if (stopped) return;
      this.order(orderId)
        .then(
          (o) => {
            onConnection(true);
            onOrder(o);
          },
          () => onConnection(false),
        )
        .then(() => {
          if (!stopped) timer = window.setTimeout(poll, 2000);
        });
    };
    if (typeof window.EventSource === 'function') {
      es = new EventSource(`/v1/orders/${orderId}/events?access_token=${encodeURIComponent(this.token)}`);
      es.onopen = () => onConnection(true);
      es.addEventListener('order', (e) => {
        onConnection(true);
        onOrder(JSON.parse((e as MessageEvent).data));
      });
      es.onerror = () => {
        if (!stopped) onConnection(false);
        if (es && es.readyState === 2 && !stopped) {
          es = null;
          poll();
        }
      };
    } else {
      poll();
    }
    return () => {
      stopped = true;
      if (es) es.close();
      if (timer !== undefined) clearTimeout(timer);
    };
  }
}

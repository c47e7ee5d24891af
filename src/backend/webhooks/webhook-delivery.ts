import { correlation } from '../../lib/correlation.ts';
import type { Clock } from '../../lib/clock.ts';
import { httpCall } from '../../lib/http/http-client.ts';
import type { Log } from '../../lib/log.ts';
import { RetryLater } from '../../lib/outbox/outbox.ts';
import { unseal } from '../../lib/sealed.ts';
import type { BackendDb } from '../schema.ts';
import { retryDelayMs, WEBHOOK_GIVE_UP_MS, WEBHOOK_TIMEOUT_MS } from './retry-schedule.ts';
import { signatureHeader } from './signature.ts';
import { webhookStore, type EventRow } from './webhook-store.ts';
import { UrlSlots } from './url-slots.ts';
import { FULFILMENT_TARGET } from './webhooks-service.ts';
import { AddressForbiddenError, guardedAgents, hostKind, isForbidden } from './url-guard.ts';

/** Deliveries in flight to one URL at most: a slow receiver holds up only its own deliveries. */
const PER_URL_IN_FLIGHT = 16;
/** How long a delivery waits for one of its URL's slots before it goes back to the outbox for later. */
const SLOT_WAIT_MS = 2000;

/** What provisioning in the operator's system needs to hear of its deliveries. */
export interface FulfilmentHooks {
  url: string;
  secret: string;
  /** When the order's provisioning must have succeeded, or undefined when it no longer waits. */
  deadline(orderId: string): Promise<Date | undefined>;
  /** The operator's system answered 2xx to the order's `order.paid`. */
  succeeded(orderId: string): Promise<void>;
  /** It did not by the deadline. */
  abandoned(orderId: string): Promise<void>;
}

/** What WebhookDelivery is built from. */
export interface WebhookDeliveryDeps {
  db: BackendDb;
  clock: Clock;
  encryptionKey: string;
  log: Log;
  fulfilment: FulfilmentHooks | undefined;
  /**
   * TVPAY_WEBHOOK_ALLOW_PRIVATE: webhooks may reach loopback and private addresses (never the fulfilment URL's
   * concern).
   */
  allowPrivate: boolean;
}

/**
 * Delivers one webhook (or provisioning) delivery: POSTs the event signed,
 * records the attempt, and schedules the next one on the retry schedule
 * (through the outbox, which keeps it across restarts) until 2xx or 3 days
 * (for provisioning: its deadline). Deliveries to different URLs never wait
 * for each other: one URL has at most sixteen in flight, and a delivery waits
 * up to two seconds for one of them before it is put back for later.
 */
export class WebhookDelivery {
  private readonly slots = new UrlSlots(PER_URL_IN_FLIGHT, SLOT_WAIT_MS);
  /** Connections to webhook receivers, each checked at its DNS lookup; the fulfilment URL uses the default ones. */
  private readonly agents;

  constructor(private readonly deps: WebhookDeliveryDeps) {
    this.agents = guardedAgents(deps.allowPrivate);
  }

  async deliver({ deliveryId, since }: { deliveryId: string; since: string }): Promise<void> {
    const delivery = await webhookStore.delivery(this.deps.db, deliveryId);
    if (!delivery || delivery.status !== 'pending') return;
    const event = await webhookStore.event(this.deps.db, delivery.event_id);
    if (!event) return;
    const target = await this.target(delivery.webhook_id);
    const now = this.deps.clock.now();
    if (!target) {
      // Deleted since: nothing more is sent to it.
      await webhookStore.recordAttempt(this.deps.db, deliveryId, {
        status: 'failed',
        last_status_code: null,
        last_attempt_at: delivery.last_attempt_at,
        next_attempt_at: null,
      });
      return;
    }
    // Provisioning retries until the order's deadline while the order waits for it; a resend after that
    // (the order fulfilled or refunded meanwhile) is retried like any webhook, and its answer changes nothing.
    const provisioning =
      target.fulfilment && event.order_id ? await this.deps.fulfilment!.deadline(event.order_id) : undefined;
    const deadline = provisioning ?? new Date(Date.parse(since) + WEBHOOK_GIVE_UP_MS);
    if (!(await this.slots.take(target.url)))
      throw new RetryLater(
        new Date(now.getTime() + 500 + Math.floor(Math.random() * 500)),
        `${PER_URL_IN_FLIGHT} deliveries to this URL are in flight`,
      );
    let status: number | null = null;
    try {
      status = await this.post(target, event);
    } finally {
      this.slots.release(target.url);
    }
    const at = this.deps.clock.now();
    const ok = status !== null && status >= 200 && status < 300;
    const next = new Date(at.getTime() + retryDelayMs(delivery.attempts + 1));
    const givingUp = !ok && at >= deadline;
    await webhookStore.recordAttempt(this.deps.db, deliveryId, {
      status: ok ? 'delivered' : givingUp ? 'failed' : 'pending',
      last_status_code: status,
      last_attempt_at: at.toISOString(),
      next_attempt_at: ok || givingUp ? null : (next < deadline ? next : deadline).toISOString(),
    });
    if (target.fulfilment && event.order_id) {
      if (ok) await this.deps.fulfilment!.succeeded(event.order_id);
      else if (givingUp && provisioning) await this.deps.fulfilment!.abandoned(event.order_id);
    }
    if (!ok && !givingUp) {
      this.deps.log.warn(
        { deliveryId, eventId: event.id, type: event.type, status, attempts: delivery.attempts + 1 },
        'webhook delivery failed; will retry',
      );
      throw new RetryLater(next < deadline ? next : deadline, `the receiver answered ${status ?? 'nothing'}`);
    }
  }

  private async target(webhookId: string): Promise<{ url: string; secret: string; fulfilment: boolean } | undefined> {
    if (webhookId === FULFILMENT_TARGET)
      return this.deps.fulfilment
        ? { url: this.deps.fulfilment.url, secret: this.deps.fulfilment.secret, fulfilment: true }
        : undefined;
    const hook = await webhookStore.byId(this.deps.db, webhookId);
    return hook
      ? { url: hook.url, secret: unseal(this.deps.encryptionKey, hook.secret_sealed), fulfilment: false }
      : undefined;
  }

  /**
   * The status the receiver answered, or null when it did not answer within 10 s, could not be reached, or
   * is (or resolves to) an address webhooks may not reach: then nothing is sent, and what is recorded
   * (null) is the same whether anything listens there or not.
   */
  private async post(
    { url, secret, fulfilment }: { url: string; secret: string; fulfilment: boolean },
    event: EventRow,
  ): Promise<number | null> {
    const body =
      `{"id":${JSON.stringify(event.id)},"type":${JSON.stringify(event.type)},` +
      `"createdAt":${JSON.stringify(event.created_at)},"data":${event.data}}`;
    try {
      // An address written in the URL is connected to without a lookup: it is checked here.
      const literal = fulfilment ? undefined : hostKind(new URL(url).hostname);
      if (isForbidden(literal, this.deps.allowPrivate)) throw new AddressForbiddenError(literal!);
      const answer = await httpCall(url, {
        method: 'POST',
        ...(fulfilment ? {} : { agents: this.agents }),
        body,
        timeoutMs: WEBHOOK_TIMEOUT_MS,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'tvpay-webhooks/1',
          'tvpay-event-id': event.id,
          'tvpay-event-type': event.type,
          'tvpay-signature': signatureHeader(secret, body, this.deps.clock.now()),
          // The payment's correlation id, to find the receiver's logs with ours.
          ...(correlation.current() ? { 'tvpay-correlation-id': correlation.current()! } : {}),
        },
      });
      return answer.status;
    } catch (err) {
      if (err instanceof AddressForbiddenError)
        this.deps.log.warn({ eventId: event.id, kind: err.kind }, 'webhook delivery refused: forbidden address');
      return null;
    }
  }
}

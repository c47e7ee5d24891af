import type { Delivery, Webhook } from '../../contracts/admin-api.ts';
import type { Clock } from '../../lib/clock.ts';
import type { UnitOfWork } from '../../lib/db/unit-of-work.ts';
import { DomainError, notFound } from '../../lib/errors.ts';
import type { RandomSource } from '../../lib/ids.ts';
import { topic } from '../../lib/outbox/outbox.ts';
import { enqueue } from '../outbox.ts';
import { seal } from '../../lib/sealed.ts';
import type { BackendDb, BackendTables } from '../schema.ts';
import { EVENT_TYPES, isEventType, type EventType } from './event-types.ts';
import { webhookStore, type DeliveryRow, type WebhookRow } from './webhook-store.ts';
import { forbiddenKindOf } from './url-guard.ts';

/** One delivery of one event to one receiver; `since` is when its 3 days of retries began. */
export const WEBHOOK_TOPIC = topic<{ deliveryId: string; since: string }>('webhook.deliver');

/** The delivery target that stands for the operator's provisioning URL (TVPAY_FULFILMENT_URL). */
export const FULFILMENT_TARGET = 'fulfilment';

const toWebhook = (w: WebhookRow): Webhook => ({
  webhookId: w.id,
  url: w.url,
  events: JSON.parse(w.events) as string[],
  createdAt: w.created_at,
});
const toDelivery = (d: DeliveryRow & { type: string }): Delivery => ({
  deliveryId: d.id,
  eventId: d.event_id,
  type: d.type,
  status: d.status,
  attempts: d.attempts,
  lastStatusCode: d.last_status_code,
  lastAttemptAt: d.last_attempt_at,
  nextAttemptAt: d.status === 'pending' ? d.next_attempt_at : null,
});

/** An absolute http(s) URL without credentials in it; otherwise why not. */
function urlProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `"${url.slice(0, 100)}" is not an absolute URL; give one like https://example.com/hooks/tvpay.`;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    return `The URL must be http or https, not ${u.protocol.replace(':', '')}.`;
  if (u.username || u.password)
    return 'The URL must not carry a user name or password; the signature authenticates tvpay.';
  return undefined;
}

/** What WebhooksService is built from. */
export interface WebhooksServiceDeps {
  db: BackendDb;
  /** Its transactions, which wake the outbox once they have committed if they wrote to it. */
  work: UnitOfWork<BackendTables>;
  random: RandomSource;
  clock: Clock;
  encryptionKey: string;
  /** With a provisioning URL configured, `order.paid` also goes there. */
  fulfilment: boolean;
  /** TVPAY_WEBHOOK_ALLOW_PRIVATE: webhooks may reach loopback and private addresses. */
  allowPrivate: boolean;
}

/**
 * Webhooks to the operator's systems (API "Webhooks"): registration (the
 * signing secret is shown once and kept sealed), and the events the other
 * contexts emit, each written with one delivery per subscribed receiver and
 * an outbox message per delivery in the transaction of the change itself.
 */
export class WebhooksService {
  constructor(private readonly deps: WebhooksServiceDeps) {}

  async register(url: string, events: string[]): Promise<Webhook & { secret: string }> {
    const problem = urlProblem(url);
    if (problem) throw new DomainError('WEBHOOK_URL_INVALID', problem);
    const forbidden = await forbiddenKindOf(new URL(url), this.deps.allowPrivate);
    if (forbidden)
      throw new DomainError(
        'WEBHOOK_URL_FORBIDDEN',
        `The URL's host is or resolves to a ${forbidden} address, which webhooks may not reach; ` +
          'give a receiver on a public address' +
          (forbidden === 'loopback' || forbidden === 'private'
            ? ' (or ask the operator to set TVPAY_WEBHOOK_ALLOW_PRIVATE=1 for receivers inside its network).'
            : '.'),
      );
    const unknown = events.filter((e) => e !== '*' && !isEventType(e));
    if (unknown.length)
      throw new DomainError(
        'EVENT_TYPE_UNKNOWN',
        `Unknown event type ${unknown.map((e) => `"${e}"`).join(', ')}; ` +
          `known: ${EVENT_TYPES.join(', ')}, or "*" for all.`,
      );
    if (events.includes('*') && events.length > 1)
      throw new DomainError(
        'EVENT_TYPE_UNKNOWN',
        'Give either ["*"] for every event type or a list of types, not both.',
      );
    const secret = this.deps.random.token('whsec_');
    const row: WebhookRow = {
      id: this.deps.random.id('whk'),
      url,
      events: JSON.stringify([...new Set(events)]),
      secret_sealed: seal(this.deps.encryptionKey, secret),
      created_at: this.now().toISOString(),
      deleted_at: null,
    };
    await webhookStore.insert(this.deps.db, row);
    return { ...toWebhook(row), secret };
  }

  async list(): Promise<Webhook[]> {
    return (await webhookStore.active(this.deps.db)).map(toWebhook);
  }

  async remove(webhookId: string): Promise<void> {
    if (!(await webhookStore.remove(this.deps.db, webhookId, this.now().toISOString())))
      throw notFound('WEBHOOK_NOT_FOUND', 'The webhook');
  }

  async deliveries(webhookId: string, limit = 100): Promise<Delivery[]> {
    if (webhookId !== FULFILMENT_TARGET && !(await webhookStore.byId(this.deps.db, webhookId)))
      throw notFound('WEBHOOK_NOT_FOUND', 'The webhook');
    return (await webhookStore.deliveriesOf(this.deps.db, webhookId, limit)).map(toDelivery);
  }

  /** Sends a delivery's event again (a delivered one too), with the same event id; its retries start over. */
  async resend(webhookId: string, deliveryId: string): Promise<void> {
    const delivery = await webhookStore.delivery(this.deps.db, deliveryId);
    if (!delivery || delivery.webhook_id !== webhookId) throw notFound('DELIVERY_NOT_FOUND', 'The delivery');
    if (webhookId !== FULFILMENT_TARGET && !(await webhookStore.byId(this.deps.db, webhookId)))
      throw notFound('WEBHOOK_NOT_FOUND', 'The webhook');
    const now = this.now();
    await this.deps.work.run(async (trx) => {
      await webhookStore.reopen(trx, deliveryId, now.toISOString());
      await enqueue(trx, {
        id: this.deps.random.id('obx'),
        topic: WEBHOOK_TOPIC,
        payload: { deliveryId, since: now.toISOString() },
        now,
      });
    });
  }

  /**
   * Emits an event inside the caller's transaction: it is delivered if and
   * only if the change it tells of commits. Nothing is written when nobody
   * subscribed to the type (and then `data`, a value or a function that
   * reads it, is not even read). Returns the event id, if one was made.
   */
  async emit(
    trx: BackendDb,
    type: EventType,
    data: unknown,
    orderId: string | null,
    now: Date,
  ): Promise<string | undefined> {
    const targets = (await webhookStore.targets(trx))
      .filter((w) => {
        const events = JSON.parse(w.events) as string[];
        return events.includes('*') || events.includes(type);
      })
      .map((w) => w.id);
    if (this.deps.fulfilment && type === 'order.paid') targets.push(FULFILMENT_TARGET);
    if (targets.length === 0) return undefined;
    const eventId = this.deps.random.id('evt');
    const value: unknown = typeof data === 'function' ? await (data as () => unknown)() : data;
    await webhookStore.insertEvent(trx, {
      id: eventId,
      type,
      order_id: orderId,
      data: JSON.stringify(value),
      created_at: now.toISOString(),
    });
    for (const webhookId of targets) {
      const deliveryId = this.deps.random.id('whd');
      await webhookStore.insertDelivery(trx, {
        id: deliveryId,
        webhook_id: webhookId,
        event_id: eventId,
        order_id: orderId,
        status: 'pending',
        attempts: 0,
        last_status_code: null,
        last_attempt_at: null,
        next_attempt_at: now.toISOString(),
        created_at: now.toISOString(),
      });
      await enqueue(trx, {
        id: this.deps.random.id('obx'),
        topic: WEBHOOK_TOPIC,
        payload: { deliveryId, since: now.toISOString() },
        now,
      });
    }
    return eventId;
  }

  private now(): Date {
    return this.deps.clock.now();
  }
}

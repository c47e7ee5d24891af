import { countsBy } from '../../lib/metrics/row-counts.ts';
import { handler } from '../../lib/outbox/outbox.ts';
import { serviceBasics, type BackendCore, type Offers } from '../core/feature.ts';
import { BACKEND_COUNTED } from '../schema.ts';
import { WebhookDelivery, type FulfilmentHooks } from './webhook-delivery.ts';
import { adminWebhookRoutes } from './webhooks-routes.ts';
import { WEBHOOK_TOPIC, WebhooksService } from './webhooks-service.ts';

/** The provisioning URL's settings, when the operator configured one (both its URL and its secret). */
export function fulfilmentOf(config: BackendCore['config']) {
  const { url, secret, deadlineSeconds } = config.fulfilment;
  return url && secret ? { url, secret, deadlineSeconds } : undefined;
}

/** Webhooks: the operator's endpoints and the events queued for them (delivered by `createWebhookDelivery`). */
export function createWebhooks(core: Pick<BackendCore, 'db' | 'work' | 'random' | 'clock' | 'secrets' | 'config'>) {
  const service = new WebhooksService({
    ...serviceBasics(core),
    encryptionKey: core.secrets.encryptionKey,
    fulfilment: fulfilmentOf(core.config) !== undefined,
    allowPrivate: core.config.webhookAllowPrivate,
  });
  return { service, admin: (scope) => adminWebhookRoutes(scope, service) } satisfies Offers;
}

/** Webhook deliveries counted by result, the provisioning URL's apart from the operator's webhooks. */
async function deliveriesByTarget(db: BackendCore['db']) {
  const byTarget: Array<{ labels: Record<string, string>; value: number }> = [];
  for (const r of await countsBy(db, BACKEND_COUNTED.webhookDeliveries)) {
    const target = r.labels.webhook_id === 'fulfilment' ? 'fulfilment' : 'webhook';
    const same = byTarget.find((a) => a.labels.status === r.labels.status && a.labels.target === target);
    if (same) same.value += r.value;
    else byTarget.push({ labels: { status: r.labels.status!, target }, value: r.value });
  }
  return byTarget;
}

/**
 * Webhook delivery: the outbox's webhook messages sent, signed, to the operator's endpoints and the
 * provisioning URL. Built after payments, whose hooks say when a provisioning is due, done or given up.
 */
export function createWebhookDelivery(
  core: Pick<BackendCore, 'db' | 'clock' | 'secrets' | 'config' | 'log'>,
  deps: { fulfilment: FulfilmentHooks | undefined },
) {
  const { db } = core;
  const delivery = new WebhookDelivery({
    db,
    clock: core.clock,
    encryptionKey: core.secrets.encryptionKey,
    log: core.log.child({ part: 'webhooks' }),
    fulfilment: deps.fulfilment,
    allowPrivate: core.config.webhookAllowPrivate,
  });
  return {
    handlers: [handler(WEBHOOK_TOPIC, (p) => delivery.deliver(p))],
    gauges: [
      {
        name: 'tvpay_webhook_deliveries',
        help: 'Webhook deliveries by result (target fulfilment: the provisioning URL).',
        labelNames: ['status', 'target'],
        read: () => deliveriesByTarget(db),
      },
    ],
  } satisfies Offers;
}

import type { Clock } from '../../lib/clock.ts';
import type { RandomSource } from '../../lib/ids.ts';
import type { Log } from '../../lib/log.ts';
import { beijingTime } from '../../payserver/rails/alipay/amounts.ts';
import { signedParams } from './signing.ts';
import type { DevAlipayStore, QueuedNotification } from './store.ts';

/** Alipay's retry schedule after a notification's first try: 4m, 10m, 10m, 1h, 2h, 6h, 15h (then it gives up). */
export const RETRY_AFTER_MS = [4, 10, 10, 60, 120, 360, 900].map((m) => m * 60_000);
const MAX_ATTEMPTS = RETRY_AFTER_MS.length + 1;
const MAX_ANSWER_BYTES = 1024;

/**
 * The development Alipay's asynchronous notifications: signed form posts queued with the change they tell
 * of, delivered until a merchant answers exactly `success`, retried on Alipay's schedule read from the
 * injected clock (so tests move time instead of sleeping).
 */
export class DevNotifier {
  #running: Promise<number> | undefined;

  constructor(
    private readonly deps: {
      store: DevAlipayStore;
      clock: Clock;
      random: RandomSource;
      log: Log;
      appId: string;
      alipayPrivateKeyPem: string;
    },
  ) {}

  /** A notification ready to queue: the common fields, the given ones, `sign_type` and `sign`. */
  build(url: string, notifyType: string, fields: Record<string, string>): QueuedNotification {
    const { clock, random, appId } = this.deps;
    const params = signedParams(
      {
        notify_time: beijingTime(clock.now()),
        notify_type: notifyType,
        notify_id: random
          .token('')
          .replace(/[^A-Za-z0-9]/g, '')
          .slice(0, 32),
        app_id: appId,
        charset: 'utf-8',
        version: '1.0',
        ...fields,
      },
      this.deps.alipayPrivateKeyPem,
    );
    return { id: this.deps.random.id('ntf'), url, body: new URLSearchParams(params).toString() };
  }

  /** Delivers every notification that is due; one pass at a time. Answers how many were attempted. */
  deliverDue(): Promise<number> {
    this.#running ??= this.#pass().finally(() => (this.#running = undefined));
    return this.#running;
  }

  /** Waits for a pass under way, if any (so closing the store never cuts one short). */
  async idle(): Promise<void> {
    await this.#running?.catch(() => 0);
  }

  async #pass(): Promise<number> {
    const { store, clock } = this.deps;
    const due = await store.dueNotifications(clock.now().toISOString(), MAX_ATTEMPTS);
    for (const n of due) {
      const delivered = await this.#post(n.url, n.body);
      const attempts = n.attempts + 1;
      const now = clock.now();
      if (delivered) await store.attempted(n.id, attempts, { deliveredAt: now.toISOString() });
      else {
        const wait = RETRY_AFTER_MS[attempts - 1] ?? 0;
        // After the last retry the row keeps its attempts at the maximum: given up, as Alipay does.
        await store.attempted(n.id, attempts, { nextAt: new Date(now.getTime() + wait).toISOString() });
      }
    }
    return due.length;
  }

  async #post(url: string, body: string): Promise<boolean> {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
        body,
        signal: AbortSignal.timeout(10_000),
        redirect: 'manual',
      });
      const text = (await response.text()).slice(0, MAX_ANSWER_BYTES);
      return response.status === 200 && text === 'success';
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message }, 'dev Alipay notification not delivered');
      return false;
    }
  }
}

import type { Clock } from '../../lib/clock.ts';
import type { UnitOfWork } from '../../lib/db/unit-of-work.ts';
import type { RandomSource } from '../../lib/ids.ts';
import { topic } from '../../lib/outbox/outbox.ts';
import { enqueue } from '../outbox.ts';
import type { BackendDb, BackendTables } from '../schema.ts';
import type { WebhooksService } from '../webhooks/webhooks-service.ts';
import type { OrderEvents } from '../core/order-events.ts';
import { findOrder, moveOrder } from './order-store.ts';
import { toAdminOrder } from './order-view.ts';

/** The outbox topic that asks the payment server to close an order (release holds, refuse late payments). */
export const CLOSE_TOPIC = topic<{ orderId: string }>('payment.close');

export type EndStatus = 'cancelled' | 'expired' | 'failed';
export interface EndFields {
  failure_code?: string;
  channel?: 'sms_confirm' | 'wap_link';
}

/** What OrderEnding is built from. */
export interface OrderEndingDeps {
  db: BackendDb;
  events: OrderEvents;
  random: RandomSource;
  clock: Clock;
  /** Its transactions, which wake the outbox once they have committed if they wrote to it. */
  work: UnitOfWork<BackendTables>;
  webhooks: WebhooksService;
  /** Told inside the ending transaction (a subscription records its failed renewal with it). */
  onEndedIn?: (trx: BackendDb, orderId: string, now: Date) => Promise<void>;
}

/**
 * Ends an order (cancelled, expired, failed) and, in the same transaction,
 * asks the payment server to close it. The one way an order ends, used by a
 * TV's cancel, a newer order of the same TV, expiry, a failed attempt and a
 * failed payment, so that none of them forgets the close.
 */
export class OrderEnding {
  constructor(private readonly deps: OrderEndingDeps) {}

  /** Ends the order in a transaction of its own; whether this call ended it. */
  async end(
    orderId: string,
    to: EndStatus,
    set: EndFields = {},
    guard: { attempt?: number; expiresBefore?: string } = {},
  ): Promise<boolean> {
    const now = this.deps.clock.now();
    const moved = await this.deps.work.run(async (trx) => {
      const order = await findOrder(trx, orderId);
      if (!order) return false;
      if (guard.expiresBefore && order.expires_at > guard.expiresBefore) return false;
      return this.endIn(trx, order, to, now, set, { attempt: guard.attempt });
    });
    if (moved) this.announce(orderId);
    return moved;
  }

  /**
   * Ends the order inside the caller's transaction (the caller announces it
   * after the commit with `announce`); whether the move was made.
   */
  async endIn(
    trx: BackendDb,
    order: { id: string; attempt: number },
    to: EndStatus,
    now: Date,
    set: EndFields = {},
    guard: { attempt?: number; from?: readonly ('created' | 'awaiting_payment')[] } = {},
  ): Promise<boolean> {
    if (!(await moveOrder(trx, order.id, to, now, set, guard))) return false;
    // An order the payment server never heard of (no payer yet) has nothing to close there.
    if (order.attempt > 0)
      await enqueue(trx, { id: this.deps.random.id('obx'), topic: CLOSE_TOPIC, payload: { orderId: order.id }, now });
    await this.deps.webhooks.emit(
      trx,
      `order.${to}`,
      async () => toAdminOrder((await findOrder(trx, order.id))!),
      order.id,
      now,
    );
    await this.deps.onEndedIn?.(trx, order.id, now);
    return true;
  }

  /** Tells the order's watchers and the outbox, after the commit. */
  announce(orderId: string): void {
    this.deps.events.publish(orderId);
  }
}

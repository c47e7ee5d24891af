import type { Refund } from '../../contracts/admin-api.ts';
import type { PaymentEvent } from '../../contracts/provider-api.ts';
import type { Clock } from '../../lib/clock.ts';
import type { UnitOfWork } from '../../lib/db/unit-of-work.ts';
import { DomainError, notFound } from '../../lib/errors.ts';
import type { RandomSource } from '../../lib/ids.ts';
import { formatMinor } from '../../lib/money.ts';
import { topic } from '../../lib/outbox/outbox.ts';
import { enqueue } from '../outbox.ts';
import { takeBackDays } from '../entitlements/entitlements.ts';
import type { OrderEvents } from '../core/order-events.ts';
import { REFUNDABLE_STATUSES } from '../core/order-state.ts';
import {
  findOrder,
  markFulfilmentFailed,
  moveOrder,
  orderRefundFigures,
  type OrderRow,
} from '../orders/order-store.ts';
import { orderTimeline } from '../orders/order-timeline.ts';
import { toAdminOrder } from '../orders/order-view.ts';
import type { PaymentProvider } from '../core/payment-provider.ts';
import type { BackendDb, BackendTables } from '../schema.ts';
import type { SubscriptionsService } from '../subscriptions/subscriptions-service.ts';
import type { WebhooksService } from '../webhooks/webhooks-service.ts';
import { contestedStore, type ContestedKind } from '../contested/contested-store.ts';
import { refundStore, type RefundRow } from './refund-store.ts';

/** Asks the payment server for a refund (at least once; it makes each refund once). */
export const REFUND_TOPIC = topic<{ refundId: string }>('refund.request');

export const toRefund = (r: RefundRow): Refund => ({
  refundId: r.id,
  orderId: r.order_id,
  amountMinor: Number(r.amount_minor),
  currency: r.currency,
  reason: r.reason,
  status: r.status,
  failureCode: r.failure_code,
  createdAt: r.created_at,
  completedAt: r.completed_at,
});

/** Who asked for a refund: an operator, or tvpay itself because the operator's system never provisioned. */
export type RefundInitiator = 'admin' | 'fulfilment_failed';

export interface RefundsDeps {
  db: BackendDb;
  provider: PaymentProvider;
  webhooks: WebhooksService;
  events: OrderEvents;
  random: RandomSource;
  clock: Clock;
  /** Its transactions, which wake the outbox once they have committed if they wrote to it. */
  work: UnitOfWork<BackendTables>;
  /** A full refund ends the subscription the order started or renewed. */
  subscriptions: Pick<SubscriptionsService, 'refundedIn'>;
}

/**
 * Refunds (claims 4 and 7 run backwards): an operator's, full or partial, or
 * tvpay's own when provisioning failed. A refund is counted against the
 * order in one conditional UPDATE and asked of the payment server through the
 * outbox; its outcome comes back as a signed, exactly-once message, which
 * moves the order's refunded total, and, when all of it is refunded, the
 * order to `refunded` and the entitlement back by the purchase's days.
 */
export class RefundsService {
  constructor(private readonly deps: RefundsDeps) {}

  async create(
    orderId: string,
    input: { amountMinor?: number; reason: string },
    initiatedBy: RefundInitiator = 'admin',
  ): Promise<Refund> {
    const { random, clock } = this.deps;
    const now = clock.now();
    const refund = await this.deps.work.run(async (trx) => {
      const order = await findOrder(trx, orderId);
      if (!order) throw notFound('ORDER_NOT_FOUND', 'The order');
      if (!REFUNDABLE_STATUSES.includes(order.status) || !order.payment_id)
        throw new DomainError(
          'ORDER_NOT_PAID',
          `The order is ${order.status}; only a paid or fulfilled order can be refunded.`,
        );
      if (initiatedBy === 'fulfilment_failed') {
        // From here on a late 2xx of the operator's system changes nothing.
        if (!(await markFulfilmentFailed(trx, orderId, now)))
          throw new DomainError('ORDER_CHANGED', 'The order was provisioned or refunded meanwhile.');
        await orderTimeline.add(
          trx,
          orderId,
          now,
          'fulfilment',
          "the operator's system did not provision the order in time",
          { failureCode: 'FULFILMENT_FAILED' },
        );
      }
      const left = Number(order.amount_minor) - Number(order.refund_reserved_minor);
      const amount = input.amountMinor ?? left;
      if (amount <= 0 || amount > left || !(await orderRefundFigures.reserve(trx, orderId, amount, now))) {
        throw new DomainError(
          'REFUND_EXCEEDS_PAYMENT',
          `Only ${formatMinor(Math.max(0, left), order.currency)} ${order.currency} ` +
            `(${Math.max(0, left)} minor units) ` +
            `of this order is left to refund; pending refunds count as refunded.`,
          { leftMinor: Math.max(0, left) },
        );
      }
      const row: RefundRow = {
        id: random.id('rfd'),
        order_id: orderId,
        payment_id: order.payment_id,
        amount_minor: amount,
        currency: order.currency,
        reason: input.reason,
        status: 'pending',
        failure_code: null,
        initiated_by: initiatedBy,
        created_at: now.toISOString(),
        completed_at: null,
      };
      await refundStore.insert(trx, row);
      await orderTimeline.add(trx, orderId, now, 'refund', `refund of ${amount} asked (${initiatedBy})`, {
        refundId: row.id,
        amountMinor: amount,
        status: 'pending',
        reason: input.reason,
      });
      await enqueue(trx, { id: random.id('obx'), topic: REFUND_TOPIC, payload: { refundId: row.id }, now });
      return row;
    });
    return toRefund(refund);
  }

  async list(orderId: string): Promise<Refund[]> {
    if (!(await findOrder(this.deps.db, orderId))) throw notFound('ORDER_NOT_FOUND', 'The order');
    return (await refundStore.ofOrder(this.deps.db, orderId)).map(toRefund);
  }

  /** The outbox handler: asks the payment server, which answers the same for the same refund id however often. */
  async request({ refundId }: { refundId: string }): Promise<void> {
    const r = await refundStore.byId(this.deps.db, refundId);
    if (!r || r.status !== 'pending') return;
    await this.deps.provider.refund({
      refundId: r.id,
      orderId: r.order_id,
      paymentId: r.payment_id,
      amountMinor: Number(r.amount_minor),
      currency: r.currency,
      reason: r.reason,
    });
  }

  /**
   * Applies a refund's outcome inside the inbox transaction (so once). A
   * refund the back-end never asked for is one the payment server made by
   * itself: a payment this back-end refused (its order had ended) went back.
   * An outcome that contradicts what was applied (a second refund of one
   * payment, the other outcome of a finished refund, a refund of the payment
   * the order took that nobody asked for) changes nothing: it is kept for the
   * day's reconciliation, and answered so that it is not retried for ever.
   */
  async settle(trx: BackendDb, msg: PaymentEvent, now: Date): Promise<'applied' | 'ignored'> {
    if (!msg.refundId) return 'ignored';
    const refund = await refundStore.byId(trx, msg.refundId);
    const order = await findOrder(trx, msg.orderId);
    if (!refund) return this.settleUnasked(trx, msg, order, now);
    return this.settleAsked(trx, msg, refund, order, now);
  }

  /** An outcome of a refund the back-end has no record of. */
  private async settleUnasked(
    trx: BackendDb,
    msg: PaymentEvent,
    order: OrderRow | undefined,
    now: Date,
  ): Promise<'applied' | 'ignored'> {
    const contest = async (kind: ContestedKind, detail: string) => {
      await contestedStore.record(trx, msg, kind, detail, now);
      return 'ignored' as const;
    };
    if (msg.type !== 'refund.succeeded')
      return contest(
        'unknown_refund',
        'the payment server reported the failure of a refund the back-end never asked for',
      );
    if (order && order.payment_id === msg.paymentId)
      return contest('refund_not_asked', 'the payment server refunded the payment this order took, unasked');
    const earlier = await refundStore.automaticOfPayment(trx, msg.paymentId);
    if (earlier)
      return contest('second_refund_outcome', `the payment had already gone back by itself (refund ${earlier.id})`);
    const refund: RefundRow = {
      id: msg.refundId!,
      order_id: msg.orderId,
      payment_id: msg.paymentId,
      amount_minor: msg.amountMinor,
      currency: msg.currency,
      reason: 'The order had ended when the payment arrived, so it went back by itself.',
      status: 'succeeded',
      failure_code: null,
      initiated_by: 'late_payment',
      created_at: now.toISOString(),
      completed_at: msg.at,
    };
    await refundStore.insert(trx, refund);
    if (order) {
      await orderRefundFigures.addRefunded(trx, order.id, msg.amountMinor, now);
      await orderTimeline.add(trx, order.id, now, 'refund', `late payment of ${msg.amountMinor} refunded`, {
        refundId: refund.id,
        paymentId: msg.paymentId,
        amountMinor: msg.amountMinor,
        status: 'succeeded',
      });
    }
    await this.deps.webhooks.emit(trx, 'refund.succeeded', toRefund(refund), msg.orderId, now);
    return 'applied';
  }

  /** An outcome of a refund the back-end asked for: applied once; the other outcome after it is contested. */
  private async settleAsked(
    trx: BackendDb,
    msg: PaymentEvent,
    refund: RefundRow,
    order: OrderRow | undefined,
    now: Date,
  ): Promise<'applied' | 'ignored'> {
    const { webhooks } = this.deps;
    const succeeded = msg.type === 'refund.succeeded';
    const to = succeeded ? 'succeeded' : 'failed';
    if (!(await refundStore.finish(trx, refund.id, to, succeeded ? null : (msg.failureCode ?? 'REFUND_FAILED'), now))) {
      if (refund.status !== to)
        await contestedStore.record(
          trx,
          msg,
          'contradicting_refund_outcome',
          `the refund had already ${refund.status}; this message says it ${to}`,
          now,
        );
      return 'ignored';
    }
    const done = (await refundStore.byId(trx, refund.id))!;
    await orderTimeline.add(trx, refund.order_id, now, 'refund', `refund of ${refund.amount_minor} ${done.status}`, {
      refundId: refund.id,
      amountMinor: Number(refund.amount_minor),
      status: done.status,
      ...(done.failure_code ? { failureCode: done.failure_code } : {}),
    });
    await webhooks.emit(trx, succeeded ? 'refund.succeeded' : 'refund.failed', toRefund(done), refund.order_id, now);
    if (!order) return 'applied';
    if (!succeeded) {
      await orderRefundFigures.unreserve(trx, order.id, Number(refund.amount_minor));
      return 'applied';
    }
    const total = await orderRefundFigures.addRefunded(trx, order.id, Number(refund.amount_minor), now);
    if (total !== undefined && total >= Number(order.amount_minor)) await this.markRefunded(trx, order, refund, now);
    return 'applied';
  }

  /** All of it is back: the order's last move, and the purchase's days come off the entitlement. */
  private async markRefunded(trx: BackendDb, order: OrderRow, refund: RefundRow, now: Date): Promise<void> {
    const failure = refund.initiated_by === 'fulfilment_failed' ? { failure_code: 'FULFILMENT_FAILED' } : {};
    if (!(await moveOrder(trx, order.id, 'refunded', now, failure))) return;
    await this.deps.subscriptions.refundedIn(trx, order, now);
    if (order.fulfilled_at)
      await takeBackDays(
        trx,
        { accountId: order.account_id, service: order.service, durationDays: order.duration_days },
        now,
      );
    const after = (await findOrder(trx, order.id))!;
    await this.deps.webhooks.emit(trx, 'order.refunded', toAdminOrder(after), order.id, now);
  }

  /** After the inbox transaction committed: the TV's stream hears of it. */
  announce(orderId: string): void {
    this.deps.events.publish(orderId);
  }
}

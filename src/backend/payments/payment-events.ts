import { crashPoint } from '../../lib/crash-points.ts';
import { inTransaction } from '../../lib/db/in-transaction.ts';
import type { PaymentEvent, PaymentEventAnswer } from '../../contracts/provider-api.ts';
import type { Clock } from '../../lib/clock.ts';
import type { RandomSource } from '../../lib/ids.ts';
import { enqueue, topic } from '../../lib/outbox/outbox.ts';
import { grantEntitlement } from '../entitlements/entitlements.ts';
import type { OrderEvents } from '../orders/order-events.ts';
import { findOrder, moveOrder } from '../orders/order-store.ts';
import type { OrderEnding } from '../orders/order-ending.ts';
import type { BackendDb } from '../schema.ts';

export const FULFIL_TOPIC = topic<{ orderId: string }>('order.fulfil');

type EventResult = PaymentEventAnswer['result'];

/**
 * Receives payment outcomes exactly once: the message id goes into the inbox
 * in the same transaction as its effect, and a repeated message gets the
 * first answer again. Paid orders are then provisioned through the outbox.
 */
export class PaymentEvents {
  constructor(
    private readonly db: BackendDb,
    private readonly events: OrderEvents,
    private readonly ending: OrderEnding,
    private readonly random: RandomSource,
    private readonly clock: Clock,
    private readonly kick: () => void,
  ) {}

  async apply(msg: PaymentEvent): Promise<PaymentEventAnswer> {
    const now = this.clock.now();
    const outcome = await inTransaction(this.db, async (trx) => {
      const seen = await trx.selectFrom('inbox').select('result').where('message_id', '=', msg.messageId).executeTakeFirst();
      if (seen) return { result: seen.result as EventResult, duplicate: true };
      const result = await this.effect(trx, msg, now);
      await trx.insertInto('inbox').values({ message_id: msg.messageId, result, received_at: now.toISOString() }).execute();
      return { result, duplicate: false };
    });
    if (!outcome.duplicate && outcome.result === 'applied' && msg.type === 'payment.completed') crashPoint('backend.after-paid');
    if (!outcome.duplicate && outcome.result === 'applied') {
      this.events.publish(msg.orderId);
      this.kick();
    }
    return outcome;
  }

  private async effect(trx: BackendDb, msg: PaymentEvent, now: Date): Promise<EventResult> {
    const order = await findOrder(trx, msg.orderId);
    if (!order) return msg.type === 'payment.completed' ? 'rejected' : 'ignored';
    if (msg.type === 'payment.failed') {
      const failed = await this.ending.endIn(trx, order, 'failed', now, { failure_code: msg.failureCode ?? 'PAYMENT_FAILED' }, { attempt: msg.attempt, from: ['awaiting_payment'] });
      return failed ? 'applied' : 'ignored';
    }
    if (Number(order.amount_minor) !== msg.amountMinor || order.currency !== msg.currency) return 'rejected';
    if (order.payment_id === msg.paymentId) return 'applied';
    const paid = await moveOrder(trx, order.id, 'paid', now, { paid_at: msg.at, payment_id: msg.paymentId, failure_code: null });
    if (!paid) return 'rejected';
    await enqueue(trx, { id: this.random.id('obx'), topic: FULFIL_TOPIC, payload: { orderId: order.id }, now });
    return 'applied';
  }

  /** S209: turns on what was bought, exactly once (paid → fulfilled guards it). */
  async fulfil({ orderId }: { orderId: string }): Promise<void> {
    const now = this.clock.now();
    const done = await inTransaction(this.db, async (trx) => {
      const order = await findOrder(trx, orderId);
      if (!order || order.status !== 'paid') return false;
      if (!(await moveOrder(trx, orderId, 'fulfilled', now, { fulfilled_at: now.toISOString() }))) return false;
      await grantEntitlement(trx, { accountId: order.account_id, service: order.service, productId: order.product_id, orderId, durationDays: order.duration_days }, now);
      return true;
    });
    if (done) crashPoint('backend.after-fulfil');
    if (done) this.events.publish(orderId);
  }
}

import type { PaymentEvent } from '../../contracts/provider-api.ts';
import type { Clock } from '../../lib/clock.ts';
import { affected } from '../../lib/db/affected.ts';
import type { RandomSource } from '../../lib/ids.ts';
import { enqueue } from '../../lib/outbox/outbox.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { PayserverDb, PayserverTables } from '../schema.ts';

type Payment = PayserverTables['payments'];

export const NOTIFY_TOPIC = 'notify.backend';

/**
 * The moves a payment makes once it exists, each inside the caller's
 * transaction, each guarded by the payment's current status so it happens at
 * most once: capture (and tell the back-end), fail (release and tell), and
 * release (silently, when another attempt or a close supersedes it).
 */
export class Settlement {
  constructor(
    private readonly ledger: Ledger,
    private readonly random: RandomSource,
    private readonly clock: Clock,
  ) {}

  /**
   * Captures a pending payment if its order's checkout is still open, marking
   * the checkout paid in the same transaction: whichever channel gets here
   * first wins and every other attempt for the order is released. Returns
   * false, changing nothing more, when the payment was already resolved
   * (captured, failed or released by a racing transaction), and releases
   * its hold when the order was already paid or closed. On success it gives
   * the id of the outbox message that tells the back-end, so a caller that
   * must know the back-end's verdict can deliver it at once.
   */
  async capture(trx: PayserverDb, payment: Payment): Promise<{ notifyMessageId: string } | null> {
    const now = this.clock.now().toISOString();
    const moved = await trx
      .updateTable('payments')
      .set({ status: 'captured', completed_at: now })
      .where('id', '=', payment.id)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    if (affected(moved) !== 1) return null;
    const won = await trx
      .updateTable('checkouts')
      .set({ status: 'paid', paid_payment_id: payment.id })
      .where('order_id', '=', payment.order_id)
      .where('status', '=', 'open')
      .where('expires_at', '>', now)
      .executeTakeFirst();
    if (affected(won) !== 1) {
      await trx.updateTable('payments').set({ status: 'released', failure_code: 'ORDER_CLOSED', code_hash: null }).where('id', '=', payment.id).execute();
      if (payment.hold_id) await this.ledger.release(trx, payment.hold_id);
      return null;
    }
    if (!payment.hold_id || !(await this.ledger.capture(trx, payment.hold_id))) {
      throw new Error(`ledger invariant broken: the hold of payment ${payment.id} was not open`);
    }
    const others = await trx
      .selectFrom('payments')
      .selectAll()
      .where('order_id', '=', payment.order_id)
      .where('status', '=', 'pending')
      .where('id', '!=', payment.id)
      .execute();
    for (const other of others) await this.release(trx, other, 'SUPERSEDED');
    return { notifyMessageId: await this.notify(trx, payment, 'payment.completed', null) };
  }

  /** Fails a pending payment, releases its hold and tells the back-end. */
  async fail(trx: PayserverDb, payment: Payment, failureCode: string): Promise<boolean> {
    if (!(await this.finish(trx, payment, 'failed', failureCode))) return false;
    await this.notify(trx, payment, 'payment.failed', failureCode);
    return true;
  }

  /** Releases a pending payment's hold without telling anyone (it was superseded or its order closed). */
  async release(trx: PayserverDb, payment: Payment, reason: string): Promise<boolean> {
    return this.finish(trx, payment, 'released', reason);
  }

  private async finish(trx: PayserverDb, payment: Payment, status: 'failed' | 'released', reason: string): Promise<boolean> {
    const res = await trx
      .updateTable('payments')
      .set({ status, failure_code: reason, completed_at: this.clock.now().toISOString(), code_hash: null })
      .where('id', '=', payment.id)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    if (affected(res) !== 1) return false;
    if (payment.hold_id) await this.ledger.release(trx, payment.hold_id);
    return true;
  }

  private async notify(trx: PayserverDb, payment: Payment, type: PaymentEvent['type'], failureCode: string | null): Promise<string> {
    const messageId = this.random.id('msg');
    const event: PaymentEvent = {
      messageId,
      type,
      orderId: payment.order_id,
      attempt: payment.attempt,
      paymentId: payment.id,
      amountMinor: Number(payment.amount_minor),
      currency: payment.currency,
      failureCode,
      at: this.clock.now().toISOString(),
    };
    await enqueue(trx, { id: messageId, topic: NOTIFY_TOPIC, payload: event, now: this.clock.now() });
    return messageId;
  }
}

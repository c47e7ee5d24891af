import type { PaymentEvent } from '../../contracts/provider-api.ts';
import { rowsInRange } from '../../lib/db/rows.ts';
import type { BackendDb, BackendTables } from '../schema.ts';

export type ContestedRow = BackendTables['contested_messages'];

/** Why a signed message was answered without effect (reconciliation's mismatch kinds). */
export type ContestedKind =
  | 'payment_for_unknown_order'
  | 'payment_for_ended_order'
  | 'payment_amount_mismatch'
  | 'second_refund_outcome'
  | 'contradicting_refund_outcome'
  | 'refund_not_asked'
  | 'unknown_refund';

/**
 * The only writer and reader of `contested_messages`: signed messages from the payment server that
 * repeated or contradicted what the back-end had already applied. Each is answered without effect (a
 * retry would only contradict again) and kept here, in the inbox's transaction, so that the day's
 * reconciliation lists it for an operator instead of the message being retried for ever.
 */
export const contestedStore = {
  async record(trx: BackendDb, msg: PaymentEvent, kind: ContestedKind, detail: string, now: Date): Promise<void> {
    await trx
      .insertInto('contested_messages')
      .values({
        message_id: msg.messageId,
        kind,
        type: msg.type,
        order_id: msg.orderId,
        payment_id: msg.paymentId,
        refund_id: msg.refundId ?? null,
        amount_minor: msg.amountMinor,
        detail: `${detail} (message ${msg.messageId}${msg.refundId ? `, refund ${msg.refundId}` : ''})`.slice(0, 300),
        received_at: now.toISOString(),
      })
      .onConflict((oc) => oc.column('message_id').doNothing())
      .execute();
  },

  /** Those received in [start, end), oldest first. */
  async receivedBetween(db: BackendDb, start: string, end: string): Promise<ContestedRow[]> {
    return rowsInRange(db, 'contested_messages', 'received_at', [start, end], ['message_id']);
  },
};

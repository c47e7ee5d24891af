import { moveRow, rowsWhere, tableRows } from '../../lib/db/rows.ts';
import type { PayserverDb, PayserverTables } from '../schema.ts';

export type RefundRow = PayserverTables['refunds'];

const refunds = tableRows('refunds', 'id');

/** The only place the payment server's `refunds` table is written and read. */
export const refundStore = {
  byId: refunds.byKey,
  insert: refunds.insert,

  /** pending → succeeded or failed (a rail's refund whose outcome was learnt); whether this call made the move. */
  async finish(trx: PayserverDb, id: string, to: 'succeeded' | 'failed', failureCode: string | null): Promise<boolean> {
    return moveRow(trx, 'refunds', { id, status: 'pending' }, { status: to, failure_code: failureCode });
  },

  /** The refunds of some orders (their ids only: what their SMS were sent for). */
  async idsOfOrders(db: PayserverDb, orderIds: string[]): Promise<Array<{ id: string; order_id: string }>> {
    return db.selectFrom('refunds').select(['id', 'order_id']).where('order_id', 'in', orderIds).execute();
  },

  /** The refunds of some payments, oldest first (a page of the wallet provider's payment list). */
  async ofPayments(db: PayserverDb, paymentIds: string[]): Promise<RefundRow[]> {
    if (paymentIds.length === 0) return [];
    return db
      .selectFrom('refunds')
      .selectAll()
      .where('payment_id', 'in', paymentIds)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
  },

  async ofOrder(db: PayserverDb, orderId: string): Promise<RefundRow[]> {
    return rowsWhere(db, 'refunds', { order_id: orderId }, ['created_at', 'id']);
  },
};

import { affected } from '../../lib/db/affected.ts';
import type { PayserverDb, PayserverTables } from '../schema.ts';

export type RefundRow = PayserverTables['refunds'];

/** The only place the payment server's `refunds` table is written and read. */
export const refundStore = {
  async byId(db: PayserverDb, id: string): Promise<RefundRow | undefined> {
    return db.selectFrom('refunds').selectAll().where('id', '=', id).executeTakeFirst();
  },

  async insert(trx: PayserverDb, row: RefundRow): Promise<void> {
    await trx.insertInto('refunds').values(row).execute();
  },

  /** pending → succeeded or failed (a rail's refund whose outcome was learnt); whether this call made the move. */
  async finish(trx: PayserverDb, id: string, to: 'succeeded' | 'failed', failureCode: string | null): Promise<boolean> {
    const res = await trx
      .updateTable('refunds')
      .set({ status: to, failure_code: failureCode })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return affected(res) === 1;
  },

  /** The refunds of an order's payments, oldest first. */
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
    return db
      .selectFrom('refunds')
      .selectAll()
      .where('order_id', '=', orderId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
  },
};

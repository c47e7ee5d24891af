import { affected } from '../../lib/db/affected.ts';
import type { BackendDb, BackendTables } from '../schema.ts';

export type RefundRow = BackendTables['refunds'];

/**
 * The only place the back-end's `refunds` table is written and read. The two figures of an order that
 * refunds move are written by the orders' store (`orderRefundFigures`).
 */
export const refundStore = {
  async insert(trx: BackendDb, row: RefundRow): Promise<void> {
    await trx.insertInto('refunds').values(row).execute();
  },

  async byId(db: BackendDb, id: string): Promise<RefundRow | undefined> {
    return db.selectFrom('refunds').selectAll().where('id', '=', id).executeTakeFirst();
  },

  /** The refund tvpay made of a payment by itself (at most one: `refunds_one_automatic_per_payment`). */
  async automaticOfPayment(db: BackendDb, paymentId: string): Promise<RefundRow | undefined> {
    return db
      .selectFrom('refunds')
      .selectAll()
      .where('payment_id', '=', paymentId)
      .where('initiated_by', '<>', 'admin')
      .executeTakeFirst();
  },

  async ofOrder(db: BackendDb, orderId: string): Promise<RefundRow[]> {
    return db
      .selectFrom('refunds')
      .selectAll()
      .where('order_id', '=', orderId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
  },

  /** pending → succeeded | failed, once. */
  async finish(
    trx: BackendDb,
    id: string,
    to: 'succeeded' | 'failed',
    failureCode: string | null,
    now: Date,
  ): Promise<boolean> {
    const res = await trx
      .updateTable('refunds')
      .set({ status: to, failure_code: failureCode, completed_at: now.toISOString() })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return affected(res) === 1;
  },
};

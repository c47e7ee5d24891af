import { compared, moveRow, rowsWhere, rowWhere, tableRows } from '../../lib/db/rows.ts';
import type { BackendDb, BackendTables } from '../schema.ts';

export type RefundRow = BackendTables['refunds'];

const refunds = tableRows('refunds', 'id');

/**
 * The only place the back-end's `refunds` table is written and read. The two figures of an order that
 * refunds move are written by the orders' store (`orderRefundFigures`).
 */
export const refundStore = {
  insert: refunds.insert,
  byId: refunds.byKey,

  /** The refund tvpay made of a payment by itself (at most one: `refunds_one_automatic_per_payment`). */
  async automaticOfPayment(db: BackendDb, paymentId: string): Promise<RefundRow | undefined> {
    return rowWhere(db, 'refunds', { payment_id: paymentId, initiated_by: compared('<>', 'admin') });
  },

  async ofOrder(db: BackendDb, orderId: string): Promise<RefundRow[]> {
    return rowsWhere(db, 'refunds', { order_id: orderId }, ['created_at', 'id']);
  },

  /** pending → succeeded | failed, once. */
  async finish(
    trx: BackendDb,
    id: string,
    to: 'succeeded' | 'failed',
    failureCode: string | null,
    now: Date,
  ): Promise<boolean> {
    const done = { status: to, failure_code: failureCode, completed_at: now.toISOString() };
    return moveRow(trx, 'refunds', { id, status: 'pending' }, done);
  },
};

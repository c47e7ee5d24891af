import { affected } from '../../lib/db/affected.ts';
import { moveRow, rowsWhere, rowWhere } from '../../lib/db/rows.ts';
import type { BackendDb, BackendTables } from '../schema.ts';
import { REFUNDABLE_STATUSES } from '../orders/order-state.ts';

export type RefundRow = BackendTables['refunds'];

/**
 * The only place the back-end's `refunds` table is written and read, and the
 * two figures of an order that refunds move (`refund_reserved_minor`,
 * `refunded_minor`). A refund is checked and counted in one conditional
 * UPDATE, so refunds racing on several instances can never add up to more
 * than was paid.
 */
export const refundStore = {
  /**
   * Counts `amount` against what is left to refund of a paid or fulfilled
   * order (pending refunds count as refunded); whether it fit.
   */
  async reserve(trx: BackendDb, orderId: string, amount: number, now: Date): Promise<boolean> {
    const res = await trx
      .updateTable('orders')
      .set((eb) => ({ refund_reserved_minor: eb('refund_reserved_minor', '+', amount), updated_at: now.toISOString() }))
      .where('id', '=', orderId)
      .where('status', 'in', [...REFUNDABLE_STATUSES])
      .where((eb) => eb(eb('refund_reserved_minor', '+', amount), '<=', eb.ref('amount_minor')))
      .executeTakeFirst();
    return affected(res) === 1;
  },

  /**
   * Marks a paid order whose provisioning was given up (`FULFILMENT_FAILED`),
   * once and only while it is still waiting for it; whether this call did.
   */
  async markFulfilmentFailed(trx: BackendDb, orderId: string, now: Date): Promise<boolean> {
    const from = { id: orderId, status: 'paid', failure_code: null } as const;
    return moveRow(trx, 'orders', from, { failure_code: 'FULFILMENT_FAILED', updated_at: now.toISOString() });
  },

  /** A failed refund gives back what it had reserved. */
  async unreserve(trx: BackendDb, orderId: string, amount: number): Promise<void> {
    await trx
      .updateTable('orders')
      .set((eb) => ({ refund_reserved_minor: eb('refund_reserved_minor', '-', amount) }))
      .where('id', '=', orderId)
      .where('refund_reserved_minor', '>=', amount)
      .execute();
  },

  /** Adds a succeeded refund to the order's refunded total; the new total. */
  async addRefunded(trx: BackendDb, orderId: string, amount: number, now: Date): Promise<number | undefined> {
    const row = await trx
      .updateTable('orders')
      .set((eb) => ({ refunded_minor: eb('refunded_minor', '+', amount), updated_at: now.toISOString() }))
      .where('id', '=', orderId)
      .returning('refunded_minor')
      .executeTakeFirst();
    return row ? Number(row.refunded_minor) : undefined;
  },

  async insert(trx: BackendDb, row: RefundRow): Promise<void> {
    await trx.insertInto('refunds').values(row).execute();
  },

  async byId(db: BackendDb, id: string): Promise<RefundRow | undefined> {
    return rowWhere(db, 'refunds', { id });
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

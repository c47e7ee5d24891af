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

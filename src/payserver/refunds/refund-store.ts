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

import { sql, type Kysely, type Migration } from 'kysely';

/** Partial and repeated refunds of a captured payment, each made once per refund id. */
export const refundTables: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .alterTable('payments')
      .addColumn('refunded_minor', 'bigint', (c) => c.notNull().defaultTo(0))
      .execute();
    await sql`UPDATE payments SET refunded_minor = amount_minor WHERE status = 'refunded'`.execute(db);
    await db.schema
      .createTable('refunds')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('payment_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('order_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('amount_minor', 'bigint', (c) => c.notNull())
      .addColumn('currency', 'varchar(3)', (c) => c.notNull())
      .addColumn('source', 'varchar(16)')
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('failure_code', 'varchar(64)')
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('refunds_payment').on('refunds').column('payment_id').execute();
    await db.schema.createIndex('payments_order').on('payments').column('order_id').execute();
  },
};

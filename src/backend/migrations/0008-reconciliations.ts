import type { Kysely, Migration } from 'kysely';

/** The reports of the reconciliation runs. */
export const reconciliations: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('reconciliations')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('date', 'varchar(10)', (c) => c.notNull())
      .addColumn('ran_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('report', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('reconciliations_date').on('reconciliations').columns(['date', 'ran_at']).execute();
    await db.schema.createIndex('orders_paid_at').on('orders').column('paid_at').execute();
  },
};

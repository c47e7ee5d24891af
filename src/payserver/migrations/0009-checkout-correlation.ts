import type { Kysely, Migration } from 'kysely';

/** Which TV checkout started an order here, so its outcome is followed with it. */
export const checkoutCorrelation: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('checkouts').addColumn('correlation_id', 'varchar(64)').execute();
  },
};

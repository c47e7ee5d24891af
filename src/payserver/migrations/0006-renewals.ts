import type { Kysely, Migration } from 'kysely';

/** What a checkout says of a product that renews. */
export const renewals: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('checkouts').addColumn('renews_days', 'integer').execute();
  },
};

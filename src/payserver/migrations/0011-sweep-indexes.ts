import type { Kysely, Migration } from 'kysely';

/**
 * Indexes for the sweeps and the day's statement: with a million payments, the search for expired
 * codes and for expired checkout pages read every row each time (180 ms and 80 ms every pass, in the
 * event loop the back-end shares under `npm start`), and a day's statement read the whole table.
 */
export const sweepIndexes: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createIndex('payments_code_expiry')
      .on('payments')
      .columns(['status', 'method', 'code_expires_at'])
      .execute();
    await db.schema.createIndex('checkouts_status_expiry').on('checkouts').columns(['status', 'expires_at']).execute();
    await db.schema
      .createIndex('payments_status_completed')
      .on('payments')
      .columns(['status', 'completed_at'])
      .execute();
  },
};

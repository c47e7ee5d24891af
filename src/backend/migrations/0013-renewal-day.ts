import type { Kysely, Migration } from 'kysely';

/**
 * Renewal day: the charges due and not yet claimed are one range of an
 * index (claimed ones, waiting for their payment, are no longer stepped over
 * at every pass of the scheduler), and so are the orders waiting longest.
 */
export const renewalDay: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createIndex('subscriptions_charge_due')
      .on('subscriptions')
      .columns(['status', 'pending_order_id', 'next_charge_at'])
      .execute();
    await db.schema.dropIndex('subscriptions_due').execute();
    // The orders waiting longest, which reconciliation checks with the provider.
    await db.schema.createIndex('orders_status_updated').on('orders').columns(['status', 'updated_at']).execute();
  },
};

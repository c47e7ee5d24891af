import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Memberships that renew: renewing products, subscriptions, and renewal
 * orders, which belong to a subscription rather than to a TV's checkout (so
 * they never count as the TV's one open order).
 */
export const subscriptions: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .alterTable('products')
      .addColumn('renews', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.alterTable('orders').addColumn('subscription_id', 'varchar(64)').execute();
    await db.schema
      .alterTable('orders')
      .addColumn('renewal_consent', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .alterTable('orders')
      .addColumn('renews', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await sql`DROP INDEX orders_one_open_per_device`.execute(db);
    await sql
      .raw(
        'CREATE UNIQUE INDEX orders_one_open_per_device ON orders (device_id)' +
          " WHERE status IN ('created', 'awaiting_payment') AND (channel IS NULL OR channel <> 'renewal')",
      )
      .execute(db);
    await db.schema
      .createTable('subscriptions')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('account_id', 'varchar(128)', (c) => c.notNull())
      .addColumn('device_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('product_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('service', 'varchar(64)', (c) => c.notNull())
      .addColumn('title', 'varchar(200)', (c) => c.notNull())
      .addColumn('amount_minor', 'bigint', (c) => c.notNull())
      .addColumn('currency', 'varchar(3)', (c) => c.notNull())
      .addColumn('duration_days', 'integer', (c) => c.notNull())
      .addColumn('payer_phone', 'varchar(32)', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('current_period_end', 'varchar(32)', (c) => c.notNull())
      .addColumn('next_charge_at', 'varchar(32)')
      .addColumn('failed_tries', 'integer', (c) => c.notNull())
      .addColumn('pending_order_id', 'varchar(64)')
      .addColumn('noticed_for', 'varchar(32)')
      .addColumn('cancelled_at', 'varchar(32)')
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
      .execute();
    // One subscription per account and service while it is active.
    await sql
      .raw(
        'CREATE UNIQUE INDEX subscriptions_one_active ON subscriptions (account_id, service)' +
          " WHERE status = 'active'",
      )
      .execute(db);
    await db.schema
      .createIndex('subscriptions_due')
      .on('subscriptions')
      .columns(['status', 'next_charge_at'])
      .execute();
    await db.schema.createIndex('subscriptions_phone').on('subscriptions').column('payer_phone').execute();
  },
};

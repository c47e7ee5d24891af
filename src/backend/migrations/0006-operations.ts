import { sql, type Kysely, type Migration } from 'kysely';

/** The operations migration, part one: what orders gain, their refunds and their timeline. */
async function refundAndTimelineTables(db: Kysely<any>) {
  await db.schema
    .alterTable('orders')
    .addColumn('refund_reserved_minor', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('orders')
    .addColumn('refunded_minor', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('products').addColumn('retired_at', 'varchar(32)').execute();
  await db.schema.alterTable('devices').addColumn('revoked_at', 'varchar(32)').execute();
  await db.schema.createIndex('orders_created').on('orders').columns(['created_at', 'id']).execute();
  await db.schema.createIndex('orders_payer_phone').on('orders').columns(['payer_phone', 'created_at']).execute();
  await db.schema
    .createTable('refunds')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('order_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('payment_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('amount_minor', 'bigint', (c) => c.notNull())
    .addColumn('currency', 'varchar(3)', (c) => c.notNull())
    .addColumn('reason', 'varchar(200)', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('failure_code', 'varchar(64)')
    .addColumn('initiated_by', 'varchar(32)', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('completed_at', 'varchar(32)')
    .execute();
  await db.schema.createIndex('refunds_order').on('refunds').column('order_id').execute();
  // One automatic refund per payment that reached an order which could not take it.
  await sql
    .raw(
      'CREATE UNIQUE INDEX refunds_one_automatic_per_payment ON refunds (payment_id)' +
        " WHERE initiated_by <> 'admin'",
    )
    .execute(db);
  await db.schema
    .createTable('order_timeline')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('order_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('at', 'varchar(32)', (c) => c.notNull())
    .addColumn('kind', 'varchar(16)', (c) => c.notNull())
    .addColumn('summary', 'varchar(300)', (c) => c.notNull())
    .addColumn('detail', 'text')
    .execute();
  await db.schema.createIndex('order_timeline_order').on('order_timeline').columns(['order_id', 'at']).execute();
}

/** The operations migration, part two: webhooks, their events and their deliveries. */
async function webhookTables(db: Kysely<any>) {
  await db.schema
    .createTable('webhooks')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('url', 'varchar(2048)', (c) => c.notNull())
    .addColumn('events', 'text', (c) => c.notNull())
    .addColumn('secret_sealed', 'text', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('deleted_at', 'varchar(32)')
    .execute();
  await db.schema
    .createTable('webhook_events')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('type', 'varchar(64)', (c) => c.notNull())
    .addColumn('order_id', 'varchar(64)')
    .addColumn('data', 'text', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('webhook_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('event_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('order_id', 'varchar(64)')
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('last_status_code', 'integer')
    .addColumn('last_attempt_at', 'varchar(32)')
    .addColumn('next_attempt_at', 'varchar(32)')
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('webhook_deliveries_webhook')
    .on('webhook_deliveries')
    .columns(['webhook_id', 'created_at'])
    .execute();
  await db.schema.createIndex('webhook_deliveries_order').on('webhook_deliveries').column('order_id').execute();
}

/**
 * Refunds, the order's timeline, webhooks and their deliveries, retired
 * products and revoked devices (the operations part of the contract).
 */
export const operations: Migration = {
  async up(db: Kysely<any>) {
    await refundAndTimelineTables(db);
    await webhookTables(db);
  },
};

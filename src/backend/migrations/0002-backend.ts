import type { Kysely, Migration } from 'kysely';

/** The back-end's first tables: products, devices (TVs), orders, entitlements and the inbox of messages applied. */
export const coreTables: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('products')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('title', 'varchar(200)', (c) => c.notNull())
      .addColumn('amount_minor', 'bigint', (c) => c.notNull())
      .addColumn('currency', 'varchar(3)', (c) => c.notNull())
      .addColumn('service', 'varchar(64)', (c) => c.notNull())
      .addColumn('duration_days', 'integer', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('devices')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('name', 'varchar(200)', (c) => c.notNull())
      .addColumn('account_id', 'varchar(128)', (c) => c.notNull())
      .addColumn('token_hash', 'varchar(64)', (c) => c.notNull().unique())
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('orders')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('device_id', 'varchar(64)', (c) => c.notNull().references('devices.id'))
      .addColumn('account_id', 'varchar(128)', (c) => c.notNull())
      .addColumn('product_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('title', 'varchar(200)', (c) => c.notNull())
      .addColumn('amount_minor', 'bigint', (c) => c.notNull())
      .addColumn('currency', 'varchar(3)', (c) => c.notNull())
      .addColumn('service', 'varchar(64)', (c) => c.notNull())
      .addColumn('duration_days', 'integer', (c) => c.notNull())
      .addColumn('status', 'varchar(24)', (c) => c.notNull())
      .addColumn('channel', 'varchar(16)')
      .addColumn('payer_phone', 'varchar(32)')
      .addColumn('attempt', 'integer', (c) => c.notNull())
      .addColumn('link_token', 'varchar(128)', (c) => c.notNull())
      .addColumn('failure_code', 'varchar(64)')
      .addColumn('payment_id', 'varchar(64)')
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('expires_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('paid_at', 'varchar(32)')
      .addColumn('fulfilled_at', 'varchar(32)')
      .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('orders_status_expiry').on('orders').columns(['status', 'expires_at']).execute();
    await db.schema.createIndex('orders_device').on('orders').column('device_id').execute();
    await db.schema
      .createTable('entitlements')
      .addColumn('account_id', 'varchar(128)', (c) => c.notNull())
      .addColumn('service', 'varchar(64)', (c) => c.notNull())
      .addColumn('product_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('order_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('valid_from', 'varchar(32)', (c) => c.notNull())
      .addColumn('valid_until', 'varchar(32)', (c) => c.notNull())
      .addPrimaryKeyConstraint('entitlements_pk', ['account_id', 'service'])
      .execute();
    await db.schema
      .createTable('inbox')
      .addColumn('message_id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('result', 'varchar(32)', (c) => c.notNull())
      .addColumn('received_at', 'varchar(32)', (c) => c.notNull())
      .execute();
  },
};

import { sql, type Kysely, type Migration } from 'kysely';
import { commonTablesMigration, smsRefMigration, smsGatewayIdMigration, type CommonTables } from '../lib/db/common-tables.ts';
import type { OrderStatus } from './orders/order-state.ts';

/** The back-end server's database. */
export interface BackendTables extends CommonTables {
  products: { id: string; title: string; amount_minor: number; currency: string; service: string; duration_days: number; updated_at: string };
  devices: { id: string; name: string; account_id: string; token_hash: string; created_at: string };
  orders: {
    id: string;
    device_id: string;
    account_id: string;
    product_id: string;
    title: string;
    amount_minor: number;
    currency: string;
    service: string;
    duration_days: number;
    status: OrderStatus;
    channel: 'sms_confirm' | 'wap_link' | null;
    payer_phone: string | null;
    attempt: number;
    link_token: string;
    failure_code: string | null;
    payment_id: string | null;
    created_at: string;
    expires_at: string;
    paid_at: string | null;
    fulfilled_at: string | null;
    updated_at: string;
  };
  entitlements: { account_id: string; service: string; product_id: string; order_id: string; valid_from: string; valid_until: string };
  inbox: { message_id: string; result: string; received_at: string };
}

export type BackendDb = Kysely<BackendTables>;

const core: Migration = {
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

/**
 * A TV has at most one open order: a partial unique index, so that even two
 * creations racing on two instances cannot both leave an order open. Older
 * open orders of a device from before this rule are cancelled first (their
 * checkouts expire at the payment server, and a late payment is refunded).
 */
const oneOpenOrderPerDevice: Migration = {
  async up(db: Kysely<any>) {
    await sql`UPDATE orders SET status = 'cancelled', failure_code = 'REPLACED'
      WHERE status IN ('created', 'awaiting_payment') AND EXISTS (
        SELECT 1 FROM orders newer WHERE newer.device_id = orders.device_id AND newer.status IN ('created', 'awaiting_payment')
          AND (newer.created_at > orders.created_at OR (newer.created_at = orders.created_at AND newer.id > orders.id)))`.execute(db);
    await sql`CREATE UNIQUE INDEX orders_one_open_per_device ON orders (device_id) WHERE status IN ('created', 'awaiting_payment')`.execute(db);
  },
};

export const backendMigrations: Record<string, Migration> = {
  '0001_common': commonTablesMigration,
  '0002_backend': core,
  '0003_sms_ref': smsRefMigration,
  '0004_sms_gateway_id': smsGatewayIdMigration,
  '0005_one_open_order_per_device': oneOpenOrderPerDevice,
};

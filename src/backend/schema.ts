import { consoleSessionsMigration } from '../lib/console/console-session.ts';
import { sql, SqliteAdapter, type Kysely, type Migration } from 'kysely';
import { rowCountsMigration, SMS_COUNTED, type CountedTable } from '../lib/metrics/row-counts.ts';
import {
  commonTablesMigration,
  outboxCorrelationMigration,
  outboxTopicMigration,
  smsRefMigration,
  smsGatewayIdMigration,
  type CommonTables,
} from '../lib/db/common-tables.ts';
import type { OrderStatus } from './orders/order-state.ts';

/** The back-end server's database. */
export interface BackendTables extends CommonTables {
  products: {
    id: string;
    title: string;
    amount_minor: number;
    currency: string;
    service: string;
    duration_days: number;
    updated_at: string;
    retired_at: string | null;
    renews: number;
    /** What the package is, in the words of `title`'s language ('' when the operator gave none). */
    description: string;
    /** JSON: the title and description per TV language (`{"en": {"title": …, "description": …}}`), or null. */
    localized: string | null;
  };
  devices: {
    id: string;
    name: string;
    account_id: string;
    token_hash: string;
    created_at: string;
    revoked_at: string | null;
  };
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
    channel: 'sms_confirm' | 'wap_link' | 'renewal' | 'scan' | null;
    payer_phone: string | null;
    attempt: number;
    /**
     * '' for an order whose link token is derived from its id (payments/link-tokens.ts); for an open
     * order from before that, its token sealed. Never a token in plain text.
     */
    link_token_sealed: string;
    failure_code: string | null;
    payment_id: string | null;
    created_at: string;
    expires_at: string;
    paid_at: string | null;
    fulfilled_at: string | null;
    updated_at: string;
    /** Pending and succeeded refunds: the one figure a new refund is checked and counted against. */
    refund_reserved_minor: number;
    /** Succeeded refunds. */
    refunded_minor: number;
    /** The subscription this order started, extended or renews. */
    subscription_id: string | null;
    /** For a code SMS: how many wrong replies remain (the payment server says after each one); else null. */
    tries_left: number | null;
    /** What paid the order at the payment server (its wallet or its bank card), from `payment.completed`. */
    paid_source: 'wallet' | 'card' | 'alipay' | 'wechatpay' | null;
    /** The product renewed every `duration_days` when the order was made (a term of the order, like its price). */
    renews: number;
    /** The payer agreed to renewals charged under the quick-pay agreement (a renewing product, confirmed so). */
    renewal_consent: number;
  };
  subscriptions: {
    id: string;
    account_id: string;
    device_id: string;
    product_id: string;
    service: string;
    title: string;
    amount_minor: number;
    currency: string;
    duration_days: number;
    payer_phone: string;
    status: 'active' | 'cancelled' | 'lapsed';
    current_period_end: string;
    next_charge_at: string | null;
    /** Failed renewal tries of the current period (the first at its end, then 1 and 3 days after). */
    failed_tries: number;
    /** The renewal order in flight: set by the one scheduler that claimed the charge. */
    pending_order_id: string | null;
    /** The period end whose notice went out, so each period is announced once. */
    noticed_for: string | null;
    cancelled_at: string | null;
    created_at: string;
    updated_at: string;
  };
  refunds: {
    id: string;
    order_id: string;
    payment_id: string;
    amount_minor: number;
    currency: string;
    reason: string;
    status: 'pending' | 'succeeded' | 'failed';
    failure_code: string | null;
    /** `admin`, or why tvpay refunded by itself (`late_payment`, `fulfilment_failed`). */
    initiated_by: string;
    created_at: string;
    completed_at: string | null;
  };
  /** What happened to an order, oldest first: its status changes, messages, refunds. */
  order_timeline: { id: string; order_id: string; at: string; kind: string; summary: string; detail: string | null };
  webhooks: {
    id: string;
    url: string;
    events: string;
    secret_sealed: string;
    created_at: string;
    deleted_at: string | null;
  };
  webhook_events: { id: string; type: string; order_id: string | null; data: string; created_at: string };
  webhook_deliveries: {
    id: string;
    /** A registered webhook's id, or `fulfilment` for the operator's provisioning URL. */
    webhook_id: string;
    event_id: string;
    order_id: string | null;
    status: 'pending' | 'delivered' | 'failed';
    attempts: number;
    last_status_code: number | null;
    last_attempt_at: string | null;
    next_attempt_at: string | null;
    created_at: string;
  };
  entitlements: {
    account_id: string;
    service: string;
    product_id: string;
    order_id: string;
    valid_from: string;
    valid_until: string;
  };
  inbox: { message_id: string; result: string; received_at: string };
  /** Each reconciliation run and its report. */
  reconciliations: { id: string; date: string; ran_at: string; report: string };
  /**
   * Signed messages that repeated or contradicted what the back-end had applied (a second refund outcome
   * for one payment, a payment for an unknown or ended order): answered without effect and kept here for
   * the day's reconciliation to list.
   */
  contested_messages: {
    message_id: string;
    kind: string;
    type: string;
    order_id: string;
    payment_id: string;
    refund_id: string | null;
    amount_minor: number;
    detail: string;
    received_at: string;
  };
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
        SELECT 1 FROM orders newer WHERE newer.device_id = orders.device_id \
AND newer.status IN ('created', 'awaiting_payment')
          AND (newer.created_at > orders.created_at \
OR (newer.created_at = orders.created_at AND newer.id > orders.id)))`.execute(db);
    await sql`CREATE UNIQUE INDEX orders_one_open_per_device ON orders (device_id) \
WHERE status IN ('created', 'awaiting_payment')`.execute(db);
  },
};

/**
 * Refunds, the order's timeline, webhooks and their deliveries, retired
 * products and revoked devices (the operations part of the contract).
 */
const operations: Migration = {
  async up(db: Kysely<any>) {
    await addRefunds(db);
    await addTimelineAndWebhooks(db);
  },
};

/** The orders' refunded amounts, retired products, revoked devices, the lists' indexes, and refunds. */
async function addRefunds(db: Kysely<any>): Promise<void> {
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
  await sql`CREATE UNIQUE INDEX refunds_one_automatic_per_payment ON refunds (payment_id) \
WHERE initiated_by <> 'admin'`.execute(db);
}

/** The order's timeline, and webhooks with their events and deliveries. */
async function addTimelineAndWebhooks(db: Kysely<any>): Promise<void> {
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
 * Memberships that renew: renewing products, subscriptions, and renewal
 * orders, which belong to a subscription rather than to a TV's checkout (so
 * they never count as the TV's one open order).
 */
const subscriptions: Migration = {
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
    await sql`CREATE UNIQUE INDEX orders_one_open_per_device ON orders (device_id) \
WHERE status IN ('created', 'awaiting_payment') AND (channel IS NULL OR channel <> 'renewal')`.execute(db);
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
    await sql`CREATE UNIQUE INDEX subscriptions_one_active ON subscriptions (account_id, service) \
WHERE status = 'active'`.execute(db);
    await db.schema
      .createIndex('subscriptions_due')
      .on('subscriptions')
      .columns(['status', 'next_charge_at'])
      .execute();
    await db.schema.createIndex('subscriptions_phone').on('subscriptions').column('payer_phone').execute();
  },
};

/** The reports of the reconciliation runs. */
const reconciliations: Migration = {
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

/** The tries a code SMS has left, for the TV to show. */
const triesLeft: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('orders').addColumn('tries_left', 'integer').execute();
  },
};

/** What the TV says of a package in each language, and what paid an order (for the TV's success). */
const wordsAndSource: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .alterTable('products')
      .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
      .execute();
    await db.schema.alterTable('products').addColumn('localized', 'text').execute();
    await db.schema.alterTable('orders').addColumn('paid_source', 'varchar(8)').execute();
  },
};

/**
 * Renewal day: the charges due and not yet claimed are one range of an
 * index (claimed ones, waiting for their payment, are no longer stepped over
 * at every pass of the scheduler), and so are the orders waiting longest.
 */
const renewalDay: Migration = {
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

/**
 * The scheduler's two slow steps (once a minute), each a range of an index
 * that holds only what they look for. Before, both walked every active
 * subscription: 320 and 160 ms at 100,000 on renewal day, a stall of every
 * TV's call once a minute (BENCHMARKS.md, an eighth sitting). The index's
 * condition is repeated word for word by the query that uses it
 * (subscription-store.ts), which is how SQLite knows it may.
 */
const renewalBackstops: Migration = {
  async up(db: Kysely<any>) {
    // Notices not yet sent for the current period.
    await db.schema
      .createIndex('subscriptions_notice_due')
      .on('subscriptions')
      .columns(['status', 'current_period_end'])
      .where(sql.raw<boolean>(NOTICE_DUE))
      .execute();
    // Renewal orders that ended unpaid (the backstop for a try whose failure was not recorded with its end).
    await db.schema
      .createIndex('orders_renewal_ended')
      .on('orders')
      .columns(['channel', 'updated_at', 'id'])
      .where(sql.raw<boolean>(RENEWAL_ENDED))
      .execute();
  },
};

/**
 * What paid an order may be a money rail: 'wechatpay' (9 characters) does not fit the varchar(8) of
 * `paid_source` on PostgreSQL. SQLite does not enforce a varchar's length, so there is nothing to do there.
 */
const widePaidSource: Migration = {
  async up(db: Kysely<any>) {
    if (db.getExecutor().adapter instanceof SqliteAdapter) return;
    await sql`ALTER TABLE orders ALTER COLUMN paid_source TYPE varchar(16)`.execute(db);
  },
};

/** Messages answered without effect because they contradicted what was applied, for reconciliation. */
const contestedMessages: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('contested_messages')
      .addColumn('message_id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('kind', 'varchar(40)', (c) => c.notNull())
      .addColumn('type', 'varchar(32)', (c) => c.notNull())
      .addColumn('order_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('payment_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('refund_id', 'varchar(64)')
      .addColumn('amount_minor', 'bigint', (c) => c.notNull())
      .addColumn('detail', 'varchar(300)', (c) => c.notNull())
      .addColumn('received_at', 'varchar(32)', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('contested_messages_received').on('contested_messages').column('received_at').execute();
  },
};

/** The condition of `subscriptions_notice_due`, as it was created (a migration never changes). */
export const NOTICE_DUE =
  "status = 'active' AND failed_tries = 0 AND (noticed_for IS NULL OR noticed_for <> current_period_end)";
/** The condition of `orders_renewal_ended`, as it was created. */
export const RENEWAL_ENDED = "channel = 'renewal' AND status IN ('failed', 'expired', 'cancelled')";

/**
 * What the back-end's business gauges count (backend.ts), by which columns: kept by triggers on SQLite
 * (rowCountsMigration).
 */
export const BACKEND_COUNTED = {
  orders: { table: 'orders', columns: ['status', 'channel'] },
  refunds: { table: 'refunds', columns: ['status', 'initiated_by'] },
  subscriptions: { table: 'subscriptions', columns: ['status'] },
  webhookDeliveries: { table: 'webhook_deliveries', columns: ['status', 'webhook_id'] },
} as const satisfies Record<string, CountedTable>;

/**
 * Link tokens are no longer kept in plain text (payments/link-tokens.ts): the column is renamed for what
 * it now holds, and the start of the back-end (which has the key) seals or drops what rows still hold.
 */
const linkTokenSealed: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('orders').renameColumn('link_token', 'link_token_sealed').execute();
  },
};

export const backendMigrations: Record<string, Migration> = {
  '0001_common': commonTablesMigration,
  '0002_backend': core,
  '0003_sms_ref': smsRefMigration,
  '0004_sms_gateway_id': smsGatewayIdMigration,
  '0005_one_open_order_per_device': oneOpenOrderPerDevice,
  '0006_operations': operations,
  '0007_subscriptions': subscriptions,
  '0008_reconciliations': reconciliations,
  '0009_tries_left': triesLeft,
  '0010_words_and_source': wordsAndSource,
  '0011_outbox_correlation': outboxCorrelationMigration,
  '0012_outbox_topic': outboxTopicMigration,
  '0013_renewal_day': renewalDay,
  '0014_row_counts': rowCountsMigration([...Object.values(BACKEND_COUNTED), SMS_COUNTED]),
  '0015_renewal_backstops': renewalBackstops,
  '0016_console_sessions': consoleSessionsMigration,
  '0017_wide_paid_source': widePaidSource,
  '0018_contested_messages': contestedMessages,
  '0019_link_token_sealed': linkTokenSealed,
};

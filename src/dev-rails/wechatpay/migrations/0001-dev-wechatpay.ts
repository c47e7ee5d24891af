import type { Kysely, Migration } from 'kysely';

/** Payments: transactions and their refunds. */
async function tradeTables(db: Kysely<any>) {
  await db.schema
    .createTable('wx_transactions')
    .addColumn('out_trade_no', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('transaction_id', 'varchar(32)', (c) => c.notNull().unique())
    .addColumn('trade_type', 'varchar(8)', (c) => c.notNull())
    .addColumn('appid', 'varchar(32)', (c) => c.notNull())
    .addColumn('description', 'varchar(127)', (c) => c.notNull())
    .addColumn('total', 'integer', (c) => c.notNull())
    .addColumn('notify_url', 'varchar(256)', (c) => c.notNull())
    .addColumn('time_expire', 'varchar(32)')
    .addColumn('trade_state', 'varchar(16)', (c) => c.notNull())
    .addColumn('access_key', 'varchar(64)', (c) => c.unique())
    .addColumn('contract_id', 'varchar(32)')
    .addColumn('openid', 'varchar(64)')
    .addColumn('success_time', 'varchar(32)')
    .addColumn('refunded', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('wx_refunds')
    .addColumn('out_refund_no', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('refund_id', 'varchar(32)', (c) => c.notNull().unique())
    .addColumn('out_trade_no', 'varchar(32)', (c) => c.notNull())
    .addColumn('refund', 'integer', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('notify_url', 'varchar(256)')
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('success_time', 'varchar(32)')
    .execute();
}

/** Papay: contracts and the signing pages' sessions. */
async function contractTables(db: Kysely<any>) {
  await db.schema
    .createTable('wx_contracts')
    .addColumn('contract_id', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('out_contract_code', 'varchar(32)', (c) => c.notNull().unique())
    .addColumn('plan_id', 'varchar(16)', (c) => c.notNull())
    .addColumn('openid', 'varchar(64)', (c) => c.notNull())
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('balance', 'integer', (c) => c.notNull())
    .addColumn('notify_url', 'varchar(256)', (c) => c.notNull())
    .addColumn('signed_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('terminated_at', 'varchar(32)')
    .execute();
  await db.schema
    .createTable('wx_sign_sessions')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('out_contract_code', 'varchar(32)', (c) => c.notNull())
    .addColumn('plan_id', 'varchar(16)', (c) => c.notNull())
    .addColumn('display_account', 'varchar(32)', (c) => c.notNull())
    .addColumn('notify_url', 'varchar(256)', (c) => c.notNull())
    .addColumn('return_url', 'varchar(1024)', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('used', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}

/** Notifications to deliver and the tokens of bill downloads. */
async function deliveryTables(db: Kysely<any>) {
  await db.schema
    .createTable('wx_notifications')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('url', 'varchar(256)', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('next_at', 'bigint', (c) => c.notNull())
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('last_status', 'integer')
    .execute();
  await db.schema.createIndex('wx_notifications_due').on('wx_notifications').columns(['state', 'next_at']).execute();
  await db.schema
    .createTable('wx_bill_tokens')
    .addColumn('token', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('bill_date', 'varchar(10)', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .execute();
}

/**
 * What the development WeChat Pay keeps: transactions, refunds, contracts, sign sessions, notifications and
 * bill tokens.
 */
export const devWechatpayTables: Migration = {
  async up(db: Kysely<any>) {
    await tradeTables(db);
    await contractTables(db);
    await deliveryTables(db);
  },
};

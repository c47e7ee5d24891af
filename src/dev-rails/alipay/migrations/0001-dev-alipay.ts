import type { Kysely, Migration } from 'kysely';

/** What the development Alipay keeps: trades, refunds, agreements, notifications and bill links. */
export const devAlipayTables: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('trades')
      .addColumn('trade_no', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('app_id', 'varchar(32)', (c) => c.notNull())
      .addColumn('out_trade_no', 'varchar(64)', (c) => c.notNull())
      .addColumn('kind', 'varchar(16)', (c) => c.notNull())
      .addColumn('subject', 'text', (c) => c.notNull())
      .addColumn('total_fen', 'integer', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('seen', 'integer', (c) => c.notNull())
      .addColumn('qr_code', 'text')
      .addColumn('notify_url', 'text')
      .addColumn('return_url', 'text')
      .addColumn('agreement_sign', 'text')
      .addColumn('expire_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('paid_at', 'varchar(32)')
      .addColumn('closed_at', 'varchar(32)')
      .addColumn('buyer_logon_id', 'varchar(64)')
      .addColumn('refunded_fen', 'integer', (c) => c.notNull())
      .addUniqueConstraint('trades_out_trade_no', ['app_id', 'out_trade_no'])
      .execute();
    await db.schema.createIndex('trades_qr').on('trades').column('qr_code').execute();
    await db.schema
      .createTable('refunds')
      .addColumn('trade_no', 'varchar(64)', (c) => c.notNull())
      .addColumn('out_request_no', 'varchar(64)', (c) => c.notNull())
      .addColumn('amount_fen', 'integer', (c) => c.notNull())
      .addColumn('at', 'varchar(32)', (c) => c.notNull())
      .addPrimaryKeyConstraint('refunds_pk', ['trade_no', 'out_request_no'])
      .execute();
    await db.schema
      .createTable('agreements')
      .addColumn('agreement_no', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('app_id', 'varchar(32)', (c) => c.notNull())
      .addColumn('external_agreement_no', 'varchar(64)', (c) => c.notNull())
      .addColumn('sign_scene', 'varchar(64)', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('balance_fen', 'integer', (c) => c.notNull())
      .addColumn('notify_url', 'text')
      .addColumn('signed_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('unsigned_at', 'varchar(32)')
      .execute();
    await db.schema
      .createTable('notifications')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('body', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('next_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('delivered_at', 'varchar(32)')
      .execute();
    await db.schema.createIndex('notifications_due').on('notifications').columns(['delivered_at', 'next_at']).execute();
    await db.schema
      .createTable('bill_links')
      .addColumn('token', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('app_id', 'varchar(32)', (c) => c.notNull())
      .addColumn('day', 'varchar(10)', (c) => c.notNull())
      .addColumn('expires_at', 'varchar(32)', (c) => c.notNull())
      .execute();
  },
};

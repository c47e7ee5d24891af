import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Money rails: their trades and the log of every call and notification about them. An order may now have
 * many rail payments of one attempt (a QR per rail, a page payment), so the one-payment-per-attempt index
 * holds only for the wallet's own methods.
 */
export const railTrades: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.dropIndex('payments_attempt').execute();
    await db.schema
      .createIndex('payments_attempt')
      .on('payments')
      .columns(['order_id', 'attempt', 'method'])
      .unique()
      .where(sql.ref('method'), 'in', sql`('sms_code', 'page', 'renewal')`)
      .execute();
    await db.schema
      .createTable('rail_trades')
      .addColumn('out_trade_no', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('rail', 'varchar(16)', (c) => c.notNull())
      .addColumn('payment_id', 'varchar(64)', (c) => c.notNull().unique())
      .addColumn('order_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('kind', 'varchar(16)', (c) => c.notNull())
      .addColumn('state', 'varchar(16)', (c) => c.notNull())
      .addColumn('provider_trade_no', 'varchar(64)')
      .addColumn('qr_text', 'varchar(512)')
      .addColumn('amount_minor', 'bigint', (c) => c.notNull())
      .addColumn('currency', 'varchar(3)', (c) => c.notNull())
      .addColumn('expires_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('next_check_at', 'varchar(32)')
      .execute();
    await db.schema
      .createIndex('rail_trades_provider_no')
      .on('rail_trades')
      .columns(['rail', 'provider_trade_no'])
      .unique()
      .execute();
    await db.schema.createIndex('rail_trades_order').on('rail_trades').columns(['order_id', 'rail']).execute();
    await db.schema.createIndex('rail_trades_check').on('rail_trades').column('next_check_at').execute();
    await db.schema
      .createTable('rail_trade_log')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('out_trade_no', 'varchar(64)', (c) => c.notNull())
      .addColumn('at', 'varchar(32)', (c) => c.notNull())
      .addColumn('what', 'varchar(16)', (c) => c.notNull())
      .addColumn('outcome', 'varchar(200)', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('rail_trade_log_trade').on('rail_trade_log').columns(['out_trade_no', 'at']).execute();
  },
};

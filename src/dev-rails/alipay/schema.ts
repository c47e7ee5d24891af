import type { Kysely, Migration } from 'kysely';

/** The development Alipay's own store (`<dataDir>/dev-alipay.db`): what Alipay would know of each merchant. */
export interface DevAlipayTables {
  trades: {
    trade_no: string;
    app_id: string;
    out_trade_no: string;
    /** `precreate`, `wap` or `withholding` (trade.pay under an agreement). */
    kind: string;
    subject: string;
    total_fen: number;
    /** `WAIT_BUYER_PAY`, `TRADE_SUCCESS`, `TRADE_CLOSED`. */
    status: string;
    /** 1 once the payer has opened it (scanned the QR, opened the cashier): Alipay knows it from then on. */
    seen: number;
    qr_code: string | null;
    notify_url: string | null;
    return_url: string | null;
    /** The wap.pay's agreement_sign_params, JSON, when the payment also signs an agreement. */
    agreement_sign: string | null;
    expire_at: string;
    created_at: string;
    paid_at: string | null;
    closed_at: string | null;
    buyer_logon_id: string | null;
    refunded_fen: number;
  };
  refunds: { trade_no: string; out_request_no: string; amount_fen: number; at: string };
  agreements: {
    agreement_no: string;
    app_id: string;
    external_agreement_no: string;
    sign_scene: string;
    /** `NORMAL` or `UNSIGN`. */
    status: string;
    balance_fen: number;
    notify_url: string | null;
    signed_at: string;
    unsigned_at: string | null;
  };
  notifications: {
    id: string;
    url: string;
    body: string;
    attempts: number;
    next_at: string;
    delivered_at: string | null;
  };
  bill_links: { token: string; app_id: string; day: string; expires_at: string };
}

export const devAlipayMigrations: Record<string, Migration> = {
  '0001_dev_alipay': {
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
      await db.schema
        .createIndex('notifications_due')
        .on('notifications')
        .columns(['delivered_at', 'next_at'])
        .execute();
      await db.schema
        .createTable('bill_links')
        .addColumn('token', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('app_id', 'varchar(32)', (c) => c.notNull())
        .addColumn('day', 'varchar(10)', (c) => c.notNull())
        .addColumn('expires_at', 'varchar(32)', (c) => c.notNull())
        .execute();
    },
  },
};

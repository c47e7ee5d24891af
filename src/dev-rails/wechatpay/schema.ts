import type { Kysely, Migration } from 'kysely';

/** The development WeChat Pay's own store (`<dataDir>/dev-wechatpay.db`), never tvpay's. */
export interface DevWechatpayTables {
  wx_transactions: {
    out_trade_no: string;
    transaction_id: string;
    /** `NATIVE`, `MWEB` (h5) or `PAP` (papay apply). */
    trade_type: string;
    appid: string;
    description: string;
    total: number;
    notify_url: string;
    /** ISO instant; `null` for papay. */
    time_expire: string | null;
    trade_state: string;
    /** The code_url's `pr`, or the h5 `prepay_id`. */
    access_key: string | null;
    contract_id: string | null;
    openid: string | null;
    success_time: string | null;
    refunded: number;
    created_at: string;
  };
  wx_refunds: {
    out_refund_no: string;
    refund_id: string;
    out_trade_no: string;
    refund: number;
    status: string;
    notify_url: string | null;
    created_at: string;
    success_time: string | null;
  };
  wx_contracts: {
    contract_id: string;
    out_contract_code: string;
    plan_id: string;
    openid: string;
    state: string;
    /** The payer's development balance in fen, what papay apply takes from. */
    balance: number;
    notify_url: string;
    signed_at: string;
    terminated_at: string | null;
  };
  wx_sign_sessions: {
    id: string;
    out_contract_code: string;
    plan_id: string;
    display_account: string;
    notify_url: string;
    return_url: string;
    created_at: string;
    used: number;
  };
  wx_notifications: {
    id: string;
    url: string;
    body: string;
    attempts: number;
    /** Epoch ms of the injected clock when the next attempt is due. */
    next_at: number;
    state: string;
    last_status: number | null;
  };
  wx_bill_tokens: { token: string; bill_date: string; created_at: string };
}

export const devWechatpayMigrations: Record<string, Migration> = {
  '0001_dev_wechatpay': {
    async up(db: Kysely<any>) {
      await createPaymentTables(db);
      await createAgreementTables(db);
      await createDeliveryTables(db);
    },
  },
};

/** The gateway's trades and their refunds. */
async function createPaymentTables(db: Kysely<any>): Promise<void> {
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

/** Papay contracts and the signing sessions that make them. */
async function createAgreementTables(db: Kysely<any>): Promise<void> {
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

/** The notifications the gateway sends (with their retries) and the tokens of bill downloads. */
async function createDeliveryTables(db: Kysely<any>): Promise<void> {
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

import type { RailName } from './rails/rail.ts';
import { consoleSessionsMigration } from '../lib/console/console-session.ts';
import { rowCountsMigration, SMS_COUNTED, type CountedTable } from '../lib/metrics/row-counts.ts';
import { sql, type Kysely, type Migration } from 'kysely';
import {
  commonTablesMigration,
  outboxCorrelationMigration,
  outboxTopicMigration,
  smsRefMigration,
  smsGatewayIdMigration,
  type CommonTables,
} from '../lib/db/common-tables.ts';

/** The payment server's database. */
export interface PayserverTables extends CommonTables {
  accounts: {
    id: string;
    phone: string;
    currency: string;
    quick_pay: number;
    created_at: string;
    /** When the holder agreed to the wallet's quick pay (null: not agreed); the newest agreement of a phone pays. */
    quick_pay_at: string | null;
  };
  ledger_accounts: {
    id: string;
    account_id: string | null;
    kind: 'wallet' | 'card' | 'external' | 'merchant';
    currency: string;
    balance_minor: number;
    held_minor: number;
    card_last4: string | null;
  };
  holds: {
    id: string;
    ledger_account_id: string;
    payment_id: string;
    amount_minor: number;
    /** What refunds gave back of a captured hold: the ledger never lets it pass `amount_minor`. */
    refunded_minor: number;
    status: 'held' | 'captured' | 'released';
    created_at: string;
    resolved_at: string | null;
  };
  journal_entries: { id: string; kind: string; ref: string; created_at: string };
  postings: { id: string; entry_id: string; ledger_account_id: string; amount_minor: number };
  checkouts: {
    order_id: string;
    link_token_hash: string;
    phone: string;
    amount_minor: number;
    currency: string;
    product_title: string;
    payee: string;
    device_id: string;
    attempt: number;
    /** `never_started`: the order ended before its start arrived (the row only holds its lock). */
    status: 'open' | 'paid' | 'closed' | 'never_started';
    /** The correlation id of the TV checkout that started it (what the payment server does for it runs under it). */
    correlation_id: string | null;
    expires_at: string;
    created_at: string;
    paid_payment_id: string | null;
    /** A renewing product renews every this many days (said in the code SMS and on the page); null: one purchase. */
    renews_days: number | null;
  };
  payments: {
    id: string;
    order_id: string;
    attempt: number;
    /** `scan`: a rail's QR shown on the TV; `rail_page`: a rail's payment page reached from the checkout page. */
    method: 'sms_code' | 'page' | 'renewal' | 'scan' | 'rail_page';
    /** The payer's phone; empty for a scan, whose payer tvpay never learns. */
    phone: string;
    account_id: string | null;
    source: 'wallet' | 'card' | RailName | null;
    hold_id: string | null;
    amount_minor: number;
    currency: string;
    status: 'pending' | 'captured' | 'failed' | 'released' | 'refunded';
    /** What refunds gave back of a captured payment; it becomes `refunded` when that is all of it. */
    refunded_minor: number;
    failure_code: string | null;
    code_hash: string | null;
    code_expires_at: string | null;
    wrong_replies: number;
    created_at: string;
    completed_at: string | null;
    /** For a payment charged under a rail's quick-pay agreement (code reply or renewal): tvpay's number for it. */
    external_agreement_no: string | null;
  };
  refunds: {
    /** The back-end's refund id: a refund is made once per id, however often it is asked for. */
    id: string;
    payment_id: string;
    order_id: string;
    amount_minor: number;
    currency: string;
    source: 'wallet' | 'card' | RailName | null;
    /** `pending`: asked of a rail, its outcome not learnt yet (settled by `queryRefund`). */
    status: 'pending' | 'succeeded' | 'failed';
    failure_code: string | null;
    created_at: string;
  };
  /** What tvpay knows of each trade at a money rail: one per rail payment attempt. */
  rail_trades: {
    /** tvpay's trade number (letters and digits), the rail's `out_trade_no`. */
    out_trade_no: string;
    rail: RailName;
    /** The `payments` row the trade pays (method `scan` or `rail_page`, source the rail). */
    payment_id: string;
    order_id: string;
    kind: 'qr' | 'redirect' | 'agreement_charge';
    state: RailTradeState;
    /** The rail's own number for it, once paid (unique per rail: a payment is applied once). */
    provider_trade_no: string | null;
    /** What the TV shows as a QR code (the rail's own text, unchanged). */
    qr_text: string | null;
    amount_minor: number;
    currency: string;
    expires_at: string;
    created_at: string;
    updated_at: string;
    /** When the sweeper next asks the rail about it (null: nothing left to ask). */
    next_check_at: string | null;
  };
  /** Each call about a rail trade and each notification, in order, for the operator's timeline (no secrets). */
  rail_trade_log: {
    id: string;
    out_trade_no: string;
    at: string;
    /** `start`, `query`, `close`, `refund`, `query_refund`, `notification`. */
    what: string;
    /** What was learnt (`qr`, `paid`, `unknown`, `refused: …`). */
    outcome: string;
  };
  /**
   * Quick-pay agreements signed at a money rail (Alipay 商家扣款, WeChat Pay 委托代扣): a phone's, beside its
   * wallet's quick pay. Keyed by tvpay's external number (letters and digits), never by the phone.
   */
  rail_agreements: {
    external_agreement_no: string;
    rail: RailName;
    phone: string;
    /** `signing → active → ended`, or `signing → ended`: forward only. */
    status: RailAgreementStatus;
    /**
     * The rail's number for it (Alipay `agreement_no`, WeChat Pay `contract_id`), what charges name; set once signed.
     */
    agreement_no: string | null;
    /** The page payment whose trade carried the signing. */
    payment_id: string | null;
    created_at: string;
    signed_at: string | null;
    ended_at: string | null;
    /** Who ended it: `rail` (the payer at the provider, or the provider), `operator`. */
    ended_by: string | null;
  };
  page_sessions: {
    id: string;
    order_id: string;
    phone: string;
    code_hash: string | null;
    code_expires_at: string | null;
    wrong_tries: number;
    grant_hash: string | null;
    verified_at: string | null;
    created_at: string;
  };
}

export type PayserverDb = Kysely<PayserverTables>;

export type RailAgreementStatus = 'signing' | 'active' | 'ended';

/**
 * A rail trade's states, forward only: `created → (qr | redirected | charging) → paid | failed | closed`, plus
 * `unknown`.
 */
export type RailTradeState = 'created' | 'qr' | 'redirected' | 'charging' | 'unknown' | 'paid' | 'failed' | 'closed';

/** The first migration, part one: accounts and the double-entry ledger (accounts, holds, journal, postings). */
async function ledgerTables(db: Kysely<any>) {
  await db.schema
    .createTable('accounts')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('phone', 'varchar(32)', (c) => c.notNull().unique())
    .addColumn('currency', 'varchar(3)', (c) => c.notNull())
    .addColumn('quick_pay', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('ledger_accounts')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('account_id', 'varchar(64)', (c) => c.references('accounts.id'))
    .addColumn('kind', 'varchar(16)', (c) => c.notNull())
    .addColumn('currency', 'varchar(3)', (c) => c.notNull())
    .addColumn('balance_minor', 'bigint', (c) => c.notNull())
    .addColumn('held_minor', 'bigint', (c) => c.notNull())
    .addColumn('card_last4', 'varchar(4)')
    .addCheckConstraint(
      'ledger_no_overdraft',
      sql`kind = 'external' OR (held_minor >= 0 AND balance_minor >= held_minor)`,
    )
    .execute();
  await db.schema.createIndex('ledger_accounts_owner').on('ledger_accounts').columns(['account_id', 'kind']).execute();
  await db.schema
    .createTable('holds')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('ledger_account_id', 'varchar(64)', (c) => c.notNull().references('ledger_accounts.id'))
    .addColumn('payment_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('amount_minor', 'bigint', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('resolved_at', 'varchar(32)')
    .execute();
  await db.schema
    .createTable('journal_entries')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('kind', 'varchar(16)', (c) => c.notNull())
    .addColumn('ref', 'varchar(64)', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('postings')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('entry_id', 'varchar(64)', (c) => c.notNull().references('journal_entries.id'))
    .addColumn('ledger_account_id', 'varchar(64)', (c) => c.notNull().references('ledger_accounts.id'))
    .addColumn('amount_minor', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('postings_account').on('postings').column('ledger_account_id').execute();
}

/** The first migration, part two: checkouts, payments and the checkout page's sessions. */
async function paymentTables(db: Kysely<any>) {
  await db.schema
    .createTable('checkouts')
    .addColumn('order_id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('link_token_hash', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('phone', 'varchar(32)', (c) => c.notNull())
    .addColumn('amount_minor', 'bigint', (c) => c.notNull())
    .addColumn('currency', 'varchar(3)', (c) => c.notNull())
    .addColumn('product_title', 'varchar(200)', (c) => c.notNull())
    .addColumn('payee', 'varchar(64)', (c) => c.notNull())
    .addColumn('device_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('expires_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('paid_payment_id', 'varchar(64)')
    .execute();
  await db.schema
    .createTable('payments')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('order_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('method', 'varchar(16)', (c) => c.notNull())
    .addColumn('phone', 'varchar(32)', (c) => c.notNull())
    .addColumn('account_id', 'varchar(64)')
    .addColumn('source', 'varchar(16)')
    .addColumn('hold_id', 'varchar(64)')
    .addColumn('amount_minor', 'bigint', (c) => c.notNull())
    .addColumn('currency', 'varchar(3)', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('failure_code', 'varchar(64)')
    .addColumn('code_hash', 'varchar(64)')
    .addColumn('code_expires_at', 'varchar(32)')
    .addColumn('wrong_replies', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('completed_at', 'varchar(32)')
    .execute();
  await db.schema
    .createIndex('payments_attempt')
    .on('payments')
    .columns(['order_id', 'attempt', 'method'])
    .unique()
    .execute();
  await db.schema.createIndex('payments_phone_status').on('payments').columns(['phone', 'status']).execute();
  await db.schema
    .createTable('page_sessions')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('order_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('phone', 'varchar(32)', (c) => c.notNull())
    .addColumn('code_hash', 'varchar(64)')
    .addColumn('code_expires_at', 'varchar(32)')
    .addColumn('wrong_tries', 'integer', (c) => c.notNull())
    .addColumn('grant_hash', 'varchar(64)')
    .addColumn('verified_at', 'varchar(32)')
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .execute();
}

const core: Migration = {
  async up(db: Kysely<any>) {
    await ledgerTables(db);
    await paymentTables(db);
  },
};

/** Partial and repeated refunds of a captured payment, each made once per refund id. */
const refunds: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .alterTable('payments')
      .addColumn('refunded_minor', 'bigint', (c) => c.notNull().defaultTo(0))
      .execute();
    await sql`UPDATE payments SET refunded_minor = amount_minor WHERE status = 'refunded'`.execute(db);
    await db.schema
      .createTable('refunds')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('payment_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('order_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('amount_minor', 'bigint', (c) => c.notNull())
      .addColumn('currency', 'varchar(3)', (c) => c.notNull())
      .addColumn('source', 'varchar(16)')
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('failure_code', 'varchar(64)')
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('refunds_payment').on('refunds').column('payment_id').execute();
    await db.schema.createIndex('payments_order').on('payments').column('order_id').execute();
  },
};

/** What a checkout says of a product that renews. */
const renewals: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('checkouts').addColumn('renews_days', 'integer').execute();
  },
};

/** The row of an order ended before its start was a `closed` checkout with currency XXX; it is a status of its own. */
const neverStarted: Migration = {
  async up(db: Kysely<any>) {
    await sql`UPDATE checkouts SET status = 'never_started' WHERE currency = 'XXX'`.execute(db);
  },
};

/** Which TV checkout started an order here, so its outcome is followed with it. */
const checkoutCorrelation: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('checkouts').addColumn('correlation_id', 'varchar(64)').execute();
  },
};

/**
 * Indexes for the sweeps and the day's statement: with a million payments, the search for expired
 * codes and for expired checkout pages read every row each time (180 ms and 80 ms every pass, in the
 * event loop the back-end shares under `npm start`), and a day's statement read the whole table.
 */
const sweepIndexes: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createIndex('payments_code_expiry')
      .on('payments')
      .columns(['status', 'method', 'code_expires_at'])
      .execute();
    await db.schema.createIndex('checkouts_status_expiry').on('checkouts').columns(['status', 'expires_at']).execute();
    await db.schema
      .createIndex('payments_status_completed')
      .on('payments')
      .columns(['status', 'completed_at'])
      .execute();
  },
};

/**
 * Money rails: their trades and the log of every call and notification about them. An order may now have
 * many rail payments of one attempt (a QR per rail, a page payment), so the one-payment-per-attempt index
 * holds only for the wallet's own methods.
 */
const railTrades: Migration = {
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

/**
 * Quick pay through the rails: the phones' agreements at the rails, when the wallet's quick pay was agreed
 * to (the newest agreement of a phone pays), and the agreement a payment is charged under.
 */
const railAgreements: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('rail_agreements')
      .addColumn('external_agreement_no', 'varchar(32)', (c) => c.primaryKey())
      .addColumn('rail', 'varchar(16)', (c) => c.notNull())
      .addColumn('phone', 'varchar(32)', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('agreement_no', 'varchar(64)')
      .addColumn('payment_id', 'varchar(64)')
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('signed_at', 'varchar(32)')
      .addColumn('ended_at', 'varchar(32)')
      .addColumn('ended_by', 'varchar(16)')
      .execute();
    await db.schema
      .createIndex('rail_agreements_rail_no')
      .on('rail_agreements')
      .columns(['rail', 'agreement_no'])
      .unique()
      .execute();
    await db.schema
      .createIndex('rail_agreements_phone')
      .on('rail_agreements')
      .columns(['phone', 'status', 'signed_at'])
      .execute();
    await db.schema.createIndex('rail_agreements_payment').on('rail_agreements').column('payment_id').execute();
    await db.schema.alterTable('accounts').addColumn('quick_pay_at', 'varchar(32)').execute();
    await sql`UPDATE accounts SET quick_pay_at = created_at WHERE quick_pay = 1`.execute(db);
    await db.schema.alterTable('payments').addColumn('external_agreement_no', 'varchar(32)').execute();
  },
};

/**
 * What the payment server's business gauges count (payserver.ts), by which columns: kept by triggers on SQLite
 * (rowCountsMigration).
 */
/** What refunds gave back of each hold, so the ledger itself refuses a refund past what the hold captured. */
const holdRefunds: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .alterTable('holds')
      .addColumn('refunded_minor', 'bigint', (c) => c.notNull().defaultTo(0))
      .execute();
    await sql`UPDATE holds SET refunded_minor = COALESCE(
      (SELECT p.refunded_minor FROM payments p WHERE p.hold_id = holds.id), 0) WHERE status = 'captured'`.execute(db);
  },
};

export const PAYSERVER_COUNTED = {
  payments: { table: 'payments', columns: ['status', 'source', 'method'] },
  refunds: { table: 'refunds', columns: ['status', 'source'] },
} as const satisfies Record<string, CountedTable>;

export const payserverMigrations: Record<string, Migration> = {
  '0001_common': commonTablesMigration,
  '0002_payserver': core,
  '0003_sms_ref': smsRefMigration,
  '0004_sms_gateway_id': smsGatewayIdMigration,
  '0005_refunds': refunds,
  '0006_renewals': renewals,
  '0007_never_started': neverStarted,
  '0008_outbox_correlation': outboxCorrelationMigration,
  '0009_checkout_correlation': checkoutCorrelation,
  '0010_outbox_topic': outboxTopicMigration,
  '0011_sweep_indexes': sweepIndexes,
  '0012_row_counts': rowCountsMigration([...Object.values(PAYSERVER_COUNTED), SMS_COUNTED]),
  '0013_console_sessions': consoleSessionsMigration,
  '0014_rail_trades': railTrades,
  '0015_rail_agreements': railAgreements,
  '0016_hold_refunds': holdRefunds,
};

import type { RailName } from './rails/rail.ts';
import type { Kysely } from 'kysely';
import type { CountedTable } from '../lib/metrics/row-counts.ts';
import type { CommonTables } from '../lib/db/common-tables.ts';

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
     * The rail's number for it (Alipay `agreement_no`, WeChat Pay `contract_id`), what charges name; set once
     * signed.
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

/**
 * What the payment server's business gauges count (payserver.ts), by which columns: kept by triggers on SQLite
 * (rowCountsMigration).
 */
export const PAYSERVER_COUNTED = {
  payments: { table: 'payments', columns: ['status', 'source', 'method'] },
  refunds: { table: 'refunds', columns: ['status', 'source'] },
} as const satisfies Record<string, CountedTable>;

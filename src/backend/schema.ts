import type { Kysely } from 'kysely';
import type { CountedTable } from '../lib/metrics/row-counts.ts';
import type { CommonTables } from '../lib/db/common-tables.ts';
import type { Order } from '../contracts/tv-api.ts';

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
    /** The order's life: the contract's statuses, which only move forward (core/order-state.ts). */
    status: Order['status'];
    channel: 'sms_confirm' | 'wap_link' | 'renewal' | 'scan' | null;
    payer_phone: string | null;
    attempt: number;
    /**
     * '' for an order whose link token is derived from its id (core/link-tokens.ts); for an open
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
    /**
     * Raised by every UPDATE of the order (order-store.ts): of two rows of one order, the one with the higher version
     * is the newer, so a row announced with its change can be shown without reading it again, and never after a newer.
     */
    version: number;
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

import { normalizePhone } from '../../lib/phone.ts';
import { refundStore } from '../refunds/refund-store.ts';
import { railTradeStore, type RailTrade } from '../settlement/rail-trade-store.ts';
import type { PayserverDb } from '../schema.ts';
import { paymentStore, type Payment, type PaymentStatus } from '../settlement/payment-store.ts';

/** What an operator may filter the payment list by (API "Listing and tracing", the payment server's). */
export interface PaymentQuery {
  orderId?: string;
  paymentId?: string;
  phone?: string;
  status?: PaymentStatus;
  source?: string;
  before?: string;
  limit?: number;
}

/**
 * The wallet provider's payments with their refunds. With `orderId` they are that order's story,
 * oldest first (as the contract always gave them); otherwise newest first, a page of `limit` after
 * the payment `before` (an id of the previous page, so paging holds while payments arrive).
 */
export async function listPayments(db: PayserverDb, regions: readonly string[], query: PaymentQuery) {
  let rows: Payment[];
  if (query.orderId) {
    rows = (await paymentStore.ofOrder(db, query.orderId)).filter(
      (p) =>
        (!query.paymentId || p.id === query.paymentId) &&
        (!query.status || p.status === query.status) &&
        (!query.source || p.source === query.source),
    );
  } else {
    const after = query.before ? await paymentStore.byId(db, query.before) : undefined;
    rows = await paymentStore.list(db, {
      ...(query.paymentId ? { paymentId: query.paymentId } : {}),
      ...(query.phone ? { phone: normalizePhone(query.phone, regions) } : {}),
      ...(query.status ? { status: query.status } : {}),
      ...(query.source ? { source: query.source } : {}),
      ...(after ? { before: { createdAt: after.created_at, id: after.id } } : {}),
      limit: query.limit ?? 50,
    });
  }
  const refunds = await refundStore.ofPayments(
    db,
    rows.map((p) => p.id),
  );
  const trades = new Map(
    (
      await railTradeStore.ofPayments(
        db,
        rows.map((p) => p.id),
      )
    ).map((t) => [t.payment_id, t]),
  );
  return rows.map((p) => ({
    paymentId: p.id,
    orderId: p.order_id,
    attempt: p.attempt,
    method: p.method,
    phone: p.phone,
    accountId: p.account_id,
    source: p.source,
    amountMinor: Number(p.amount_minor),
    refundedMinor: Number(p.refunded_minor),
    currency: p.currency,
    status: p.status,
    failureCode: p.failure_code,
    createdAt: p.created_at,
    completedAt: p.completed_at,
    railTrade: railTradeView(trades.get(p.id)),
    refunds: refunds
      .filter((r) => r.payment_id === p.id)
      .map((r) => ({
        refundId: r.id,
        amountMinor: Number(r.amount_minor),
        currency: r.currency,
        source: r.source,
        status: r.status,
        failureCode: r.failure_code,
        createdAt: r.created_at,
      })),
  }));
}

/** A rail payment's trade: the rail, tvpay's and the rail's trade numbers, its state; null for the wallet's own. */
function railTradeView(t: RailTrade | undefined) {
  if (!t) return null;
  return { rail: t.rail, outTradeNo: t.out_trade_no, providerTradeNo: t.provider_trade_no, state: t.state };
}

/**
 * What WeChat Pay's API v3 answers mean to tvpay: pure mappings from the JSON (or the error the plugin
 * raised) to the rail seam's outcomes. Kept apart from the HTTP calls so every answer is unit-tested.
 */
import type { PaidTrade, QueryOutcome, RefundOutcome, StartOutcome } from '../rail.ts';

/** A transaction as `GET /v3/pay/transactions/out-trade-no/{no}` and `TRANSACTION.*` resources carry it. */
export interface WxTransaction {
  appid?: string;
  mchid?: string;
  out_trade_no?: string;
  transaction_id?: string;
  trade_state?: string;
  success_time?: string;
  contract_id?: string;
  payer?: { openid?: string };
  amount?: { total?: number; payer_total?: number; currency?: string };
}

/** A refund as `POST /v3/refund/domestic/refunds`, its query and `REFUND.*` resources carry it. */
export interface WxRefund {
  mchid?: string;
  out_trade_no?: string;
  out_refund_no?: string;
  refund_id?: string;
  status?: string;
  refund_status?: string;
  success_time?: string;
  amount?: { refund?: number; total?: number };
}

/** How a failed call ended: refused for sure (a 4xx with a code) or with its outcome not learnt. */
export type CallFailure =
  { kind: 'refused'; status: number; code: string; message: string } | { kind: 'unknown'; reason: string };

const PENDING = new Set(['NOTPAY', 'USERPAYING', 'ACCEPT']);
const CLOSED = new Set(['CLOSED', 'PAYERROR', 'REVOKED']);

/** Parses an RFC 3339 time WeChat Pay sent; `undefined` when absent or malformed. */
export function parseWxTime(text: unknown): Date | undefined {
  if (typeof text !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/.test(text)) return undefined;
  const at = new Date(text);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

/** The paid trade a transaction describes, or `undefined` if it lacks what a payment needs. */
export function paidTradeOf(t: WxTransaction): PaidTrade | undefined {
  const total = t.amount?.total;
  const paidAt = parseWxTime(t.success_time);
  if (!t.out_trade_no || !t.transaction_id || typeof total !== 'number' || !Number.isSafeInteger(total) || !paidAt) {
    return undefined;
  }
  const paid: PaidTrade = { outTradeNo: t.out_trade_no, providerTradeNo: t.transaction_id, amountMinor: total, paidAt };
  if (t.payer?.openid) paid.payer = t.payer.openid;
  return paid;
}

/** Maps a 2xx transaction answer to a query outcome (`trade_state` decides). */
export function queryOutcomeOf(t: WxTransaction): QueryOutcome {
  const state = t.trade_state ?? '';
  if (state === 'SUCCESS' || state === 'REFUND') {
    const paid = paidTradeOf(t);
    if (!paid) return { state: 'unknown', reason: `a ${state} transaction without its payment details` };
    // REFUND (转入退款) says a refund was made, not that all of it went back: the trade was paid, and what was
    // refunded is the refunds' own business (their ids and queries), so it is `paid`, never `refunded`.
    return { state: 'paid', paid };
  }
  if (PENDING.has(state)) return { state: 'pending' };
  if (CLOSED.has(state)) return { state: 'closed' };
  return { state: 'unknown', reason: `trade_state ${state || '(none)'}` };
}

/** Maps a 2xx refund answer (`status`, or `refund_status` in a notification) to a refund outcome. */
export function refundOutcomeOf(r: WxRefund, now: Date): RefundOutcome {
  const status = r.status ?? r.refund_status ?? '';
  if (status === 'SUCCESS') {
    const out: RefundOutcome = { state: 'succeeded', at: parseWxTime(r.success_time) ?? now };
    if (r.refund_id) out.providerRefundNo = r.refund_id;
    return out;
  }
  if (status === 'PROCESSING') return { state: 'pending' };
  if (status === 'CLOSED' || status === 'ABNORMAL') {
    return { state: 'failed', code: 'RAIL_REFUSED', providerCode: status, message: `refund ${status}` };
  }
  return { state: 'unknown', reason: `refund status ${status || '(none)'}` };
}

/**
 * Classifies what the plugin (axios) threw. A 4xx with a code is a refusal, except `SYSTEM_ERROR`;
 * a 5xx, a time-out, a network error and an answer whose signature or headers failed the plugin's
 * verification (`EV3_RES_*`, raised on a 2xx) are unknown: the caller asks again, never charges again.
 */
export function classifyFailure(err: unknown): CallFailure {
  const e = err as { code?: string; message?: string; response?: { status?: number; data?: unknown } };
  if (typeof e?.code === 'string' && e.code.startsWith('EV3_')) {
    return { kind: 'unknown', reason: `answer not verified (${e.code})` };
  }
  const status = e?.response?.status;
  if (typeof status !== 'number') return { kind: 'unknown', reason: `no answer (${e?.code ?? 'error'})` };
  if (status >= 500) return { kind: 'unknown', reason: `HTTP ${status}` };
  const data = bodyOf(e.response?.data);
  const code = typeof data.code === 'string' ? data.code : `HTTP_${status}`;
  if (code === 'SYSTEM_ERROR' || status < 400) return { kind: 'unknown', reason: `${code} (HTTP ${status})` };
  const message = typeof data.message === 'string' ? data.message : `HTTP ${status}`;
  return { kind: 'refused', status, code, message };
}

function bodyOf(data: unknown): Record<string, unknown> {
  if (data && typeof data === 'object') return data as Record<string, unknown>;
  if (typeof data === 'string') {
    try {
      const parsed: unknown = JSON.parse(data);
      if (parsed && typeof parsed === 'object') return parsed as Record<string, unknown>;
    } catch {
      return {};
    }
  }
  return {};
}

/** A refusal as the seam's `failed`: `NOT_ENOUGH` is the payer's (or merchant's) money short. */
export function failedOf(f: { code: string; message: string }): Extract<StartOutcome, { state: 'failed' }> {
  const code = f.code === 'NOT_ENOUGH' ? 'INSUFFICIENT_FUNDS' : 'RAIL_REFUSED';
  return { state: 'failed', code, providerCode: f.code, message: f.message };
}

/** A failed call as a start outcome. */
export function startFailureOf(err: unknown): StartOutcome {
  const f = classifyFailure(err);
  return f.kind === 'unknown' ? { state: 'unknown', reason: f.reason } : failedOf(f);
}

/** A failed call as a query outcome: HTTP 404 `ORDER_NOT_EXIST` means WeChat Pay has no such trade. */
export function queryFailureOf(err: unknown): QueryOutcome {
  const f = classifyFailure(err);
  if (f.kind === 'refused' && f.status === 404 && f.code === 'ORDER_NOT_EXIST') return { state: 'not_found' };
  return { state: 'unknown', reason: f.kind === 'unknown' ? f.reason : `${f.code}: ${f.message}` };
}

/** A failed call as a refund outcome. */
export function refundFailureOf(err: unknown): RefundOutcome {
  const f = classifyFailure(err);
  return f.kind === 'unknown' ? { state: 'unknown', reason: f.reason } : failedOf(f);
}

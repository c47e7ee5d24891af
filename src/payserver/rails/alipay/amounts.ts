/**
 * Alipay's edge formats: yuan strings, trade numbers and Beijing times. tvpay keeps integer fen inside;
 * these functions convert exactly or refuse, so a rounding can never change what a payer is charged.
 */
import { sha256 } from '../../../lib/ids.ts';

/** The largest fen amount converted (Alipay's own ceiling is 100 000 000 yuan). */
const MAX_FEN = 100_000_000 * 100;

/** Fen to Alipay's yuan string with exactly two decimals (`20000` → `"200.00"`); throws on anything inexact. */
export function fenToYuan(fen: number): string {
  if (!Number.isSafeInteger(fen) || fen < 0 || fen > MAX_FEN) {
    throw new RangeError(`An amount must be a whole number of fen from 0 to ${MAX_FEN}, not ${String(fen)}`);
  }
  return `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')}`;
}

/**
 * Alipay's yuan string back to fen, or `undefined` when it is not a plain decimal with at most two places
 * (Alipay answers `"200.00"`, and its documentation allows `"200"` and `"200.5"` in requests).
 */
export function yuanToFen(yuan: unknown): number | undefined {
  if (typeof yuan !== 'string') return undefined;
  const m = /^(0|[1-9][0-9]{0,8})(?:\.([0-9]{1,2}))?$/.exec(yuan);
  if (!m) return undefined;
  const fen = Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
  return fen <= MAX_FEN ? fen : undefined;
}

/** Alipay's `out_trade_no` (and `out_request_no`): 1 to 64 letters, digits or underscores. */
export const OUT_TRADE_NO = /^[A-Za-z0-9_]{1,64}$/;

export function isOutTradeNo(value: string): boolean {
  return OUT_TRADE_NO.test(value);
}

/** Throws when tvpay made a trade number Alipay would refuse: that is a bug of ours, not a payer's. */
export function assertOutTradeNo(value: string, what = 'out_trade_no'): void {
  if (!isOutTradeNo(value))
    throw new RangeError(`${what} must be 1 to 64 of [A-Za-z0-9_], not ${JSON.stringify(value)}`);
}

/**
 * The `out_request_no` for a tvpay refund id. tvpay's ids are base64url and may hold a `-`, which Alipay's
 * numbers may not: such an id goes as `h` + the first 40 hex digits of its SHA-256, the same on every retry
 * and query (so Alipay still refunds once), and never equal to another id's (tvpay's ids start `rfd`).
 */
export function outRequestNoOf(refundId: string): string {
  return isOutTradeNo(refundId) ? refundId : `h${sha256(refundId).slice(0, 40)}`;
}

const BEIJING_OFFSET_MS = 8 * 3600_000;

/** A time as Alipay writes it: Asia/Shanghai (UTC+8, no daylight saving), `yyyy-MM-dd HH:mm:ss`. */
export function beijingTime(at: Date): string {
  return new Date(at.getTime() + BEIJING_OFFSET_MS).toISOString().slice(0, 19).replace('T', ' ');
}

/** Alipay's `yyyy-MM-dd HH:mm:ss` (Beijing) back to an instant, or `undefined` when malformed. */
export function parseBeijingTime(text: unknown): Date | undefined {
  if (typeof text !== 'string' || !/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(text)) return undefined;
  const at = new Date(`${text.replace(' ', 'T')}+08:00`);
  return Number.isNaN(at.getTime()) || beijingTime(at) !== text ? undefined : at;
}

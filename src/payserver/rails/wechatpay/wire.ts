/**
 * WeChat Pay API v3's wire rules that tvpay must respect before sending anything: the merchant trade
 * number's alphabet, `time_expire` in China Standard Time, and yuan strings of bills. Pure functions,
 * shared by the rail and the development gateway so both judge the same way.
 */

/** `out_trade_no` (and `out_refund_no`): 6–32 characters of letters, digits, `_`, `-`, `|`, `*`. */
const OUT_TRADE_NO = /^[A-Za-z0-9_\-|*]{6,32}$/;

/** Whether WeChat Pay accepts `value` as an `out_trade_no` or `out_refund_no`. */
export function isWechatOutTradeNo(value: string): boolean {
  return OUT_TRADE_NO.test(value);
}

/** Integer fen WeChat Pay can carry in `amount.total` (at least 1 fen, a safe integer). */
export function isWechatAmount(fen: number): boolean {
  return Number.isSafeInteger(fen) && fen > 0;
}

const CST_OFFSET_MS = 8 * 3600_000;

/** RFC 3339 in +08:00 at whole seconds, as WeChat Pay's `time_expire`, `success_time` and bills write it. */
export function toWechatTime(at: Date): string {
  const local = new Date(Math.floor(at.getTime() / 1000) * 1000 + CST_OFFSET_MS).toISOString();
  return `${local.slice(0, 19)}+08:00`;
}

/** `YYYY-MM-DD HH:mm:ss` in China Standard Time, the bill's `交易时间`. */
export function toBillTime(at: Date): string {
  return toWechatTime(at).slice(0, 19).replace('T', ' ');
}

/** A bill's `YYYY-MM-DD HH:mm:ss` (China Standard Time) back to an instant; `undefined` if malformed. */
export function fromBillTime(text: string): Date | undefined {
  if (!/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(text)) return undefined;
  const at = new Date(`${text.replace(' ', 'T')}+08:00`);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

/** Fen as a bill's yuan string with two decimals (`"12.30"`). */
export function fenToYuan(fen: number): string {
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(fen);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** A bill's yuan string (`"12.30"`) to integer fen; `undefined` unless it is exact to the fen. */
export function yuanToFen(text: string): number | undefined {
  const m = /^(\d{1,12})\.(\d{2})$/.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * 100 + Number(m[2]);
}

/** The business day (`YYYY-MM-DD`, Asia/Shanghai) an instant falls on. */
export function shanghaiDay(at: Date): string {
  return toWechatTime(at).slice(0, 10);
}

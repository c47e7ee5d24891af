import type { ErrorCode } from '../../../lib/error-catalogue.ts';
import type { PaidTrade, QueryOutcome, RailEvent, RefundOutcome, StartOutcome } from '../rail.ts';
import { parseBeijingTime, yuanToFen } from './amounts.ts';

/**
 * Reading Alipay's answers (the `<method>_response` object, snake_case, already signature-checked by
 * the SDK) into the rail's outcomes. Pure functions, so every mapping has a unit test.
 */
export type AlipayAnswer = Readonly<Record<string, unknown>>;

/** tvpay's stable code for any definite refusal by the rail; `providerCode` keeps Alipay's sub_code. */
export const RAIL_REFUSED = 'RAIL_REFUSED' satisfies ErrorCode;

export type Verdict =
  { kind: 'ok' } | { kind: 'unknown'; reason: string } | { kind: 'refused'; providerCode: string; message: string };

/** Codes that say the request was refused as a whole (nothing was done): public error codes of the gateway. */
const REFUSING_CODES = new Set(['20001', '40001', '40002', '40003', '40004', '40006']);

/**
 * `10000` is success; `10003` (waiting for the buyer) and `20000` (service error) and anything unexpected
 * leave the outcome unknown; the 2xxxx/4xxxx business and argument errors are definite refusals.
 */
export function verdictOf(answer: AlipayAnswer): Verdict {
  const code = str(answer.code);
  if (code === '10000') return { kind: 'ok' };
  if (REFUSING_CODES.has(code)) {
    const sub = str(answer.sub_code) || code;
    return { kind: 'refused', providerCode: sub, message: str(answer.sub_msg) || str(answer.msg) || sub };
  }
  return {
    kind: 'unknown',
    reason: `Alipay answered ${code || 'no code'}${answer.sub_code ? ` ${str(answer.sub_code)}` : ''}`,
  };
}

/** A definite refusal as tvpay names it: a buyer's short balance is INSUFFICIENT_FUNDS, all else RAIL_REFUSED. */
export function refusal(v: Extract<Verdict, { kind: 'refused' }>): Extract<StartOutcome, { state: 'failed' }> {
  const code = v.providerCode === 'ACQ.BUYER_BALANCE_NOT_ENOUGH' ? 'INSUFFICIENT_FUNDS' : RAIL_REFUSED;
  return { state: 'failed', code, providerCode: v.providerCode, message: v.message };
}

/** A paid trade from an answer or notification, or `undefined` when a field is missing or inexact. */
export function paidTradeOf(a: AlipayAnswer): PaidTrade | undefined {
  const outTradeNo = str(a.out_trade_no);
  const providerTradeNo = str(a.trade_no);
  const amountMinor = yuanToFen(a.total_amount);
  const paidAt = parseBeijingTime(a.gmt_payment ?? a.send_pay_date);
  if (!outTradeNo || !providerTradeNo || amountMinor === undefined || !paidAt) return undefined;
  const payer = str(a.buyer_logon_id);
  return { outTradeNo, providerTradeNo, amountMinor, paidAt, ...(payer ? { payer } : {}) };
}

/** `alipay.trade.pay` (agreement charge): `10000` with `TRADE_SUCCESS`/`TRADE_FINISHED` (or no status) is paid. */
export function startOutcomeOfPay(answer: AlipayAnswer): StartOutcome {
  const v = verdictOf(answer);
  if (v.kind === 'refused') return refusal(v);
  if (v.kind === 'unknown') return { state: 'unknown', reason: v.reason };
  const status = str(answer.trade_status);
  if (status && status !== 'TRADE_SUCCESS' && status !== 'TRADE_FINISHED') {
    return { state: 'unknown', reason: `trade.pay answered trade_status ${status}` };
  }
  const paid = paidTradeOf(answer);
  return paid ? { state: 'paid', paid } : { state: 'unknown', reason: 'trade.pay answered without a readable trade' };
}

/**
 * `alipay.trade.query`. `TRADE_CLOSED` is both "closed unpaid" and "paid, then refunded in full"; the
 * documentation tells them apart by the payment having happened, which the answer shows as `send_pay_date`.
 */
export function queryOutcomeOf(answer: AlipayAnswer): QueryOutcome {
  const v = verdictOf(answer);
  if (v.kind === 'refused') {
    return v.providerCode === 'ACQ.TRADE_NOT_EXIST'
      ? { state: 'not_found' }
      : { state: 'unknown', reason: `trade.query refused: ${v.providerCode}` };
  }
  if (v.kind === 'unknown') return { state: 'unknown', reason: v.reason };
  switch (str(answer.trade_status)) {
    case 'WAIT_BUYER_PAY':
      return { state: 'pending' };
    case 'TRADE_SUCCESS':
    case 'TRADE_FINISHED': {
      const paid = paidTradeOf(answer);
      return paid
        ? { state: 'paid', paid }
        : { state: 'unknown', reason: 'trade.query: paid without a readable trade' };
    }
    case 'TRADE_CLOSED': {
      if (!answer.send_pay_date) return { state: 'closed' };
      const paid = paidTradeOf(answer);
      return paid
        ? { state: 'refunded', paid }
        : { state: 'unknown', reason: 'trade.query: refunded trade unreadable' };
    }
    default:
      return { state: 'unknown', reason: `trade.query answered trade_status ${str(answer.trade_status) || '(none)'}` };
  }
}

/**
 * `alipay.trade.fastpay.refund.query`: a refund exists when the answer carries its `refund_amount`; its
 * `refund_status` is `REFUND_SUCCESS` when done (older answers leave it empty, which the docs also call
 * success). No such refund means Alipay never accepted it, so a retry with the same number is safe.
 */
export function refundQueryOutcomeOf(answer: AlipayAnswer, now: Date): RefundOutcome {
  const v = verdictOf(answer);
  if (v.kind === 'unknown') return { state: 'unknown', reason: v.reason };
  if (v.kind === 'refused') {
    return v.providerCode === 'ACQ.TRADE_NOT_EXIST'
      ? { state: 'failed', code: RAIL_REFUSED, providerCode: v.providerCode, message: v.message }
      : { state: 'unknown', reason: `refund query refused: ${v.providerCode}` };
  }
  if (answer.refund_amount === undefined || answer.refund_amount === '') {
    return {
      state: 'failed',
      code: RAIL_REFUSED,
      providerCode: 'REFUND_NOT_FOUND',
      message: 'Alipay has no such refund',
    };
  }
  const status = str(answer.refund_status);
  if (status && status !== 'REFUND_SUCCESS') return { state: 'pending' };
  return { state: 'succeeded', at: parseBeijingTime(answer.gmt_refund_pay) ?? now };
}

/** Alipay's notification kinds that tvpay acts on, from the verified form params. */
export function eventOfNotification(p: AlipayAnswer): RailEvent | string {
  const notifyType = str(p.notify_type);
  const at = parseBeijingTime(p.notify_time);
  if (notifyType === 'dut_user_sign' || notifyType === 'dut_user_unsign') {
    const externalAgreementNo = str(p.external_agreement_no);
    const agreementNo = str(p.agreement_no);
    if (!externalAgreementNo || !agreementNo || !at) return `${notifyType} without its agreement numbers or time`;
    const when = parseBeijingTime(notifyType === 'dut_user_sign' ? p.sign_time : p.invalid_time) ?? at;
    if (notifyType === 'dut_user_unsign')
      return { type: 'agreement.ended', externalAgreementNo, agreementNo, at: when };
    if (str(p.status) !== 'NORMAL') return `dut_user_sign with status ${str(p.status) || '(none)'}`;
    return { type: 'agreement.signed', externalAgreementNo, agreementNo, at: when };
  }
  if (notifyType !== 'trade_status_sync') return `notify_type ${notifyType || '(none)'} is not one tvpay handles`;
  const outTradeNo = str(p.out_trade_no);
  if (!outTradeNo) return 'trade notification without out_trade_no';
  const status = str(p.trade_status);
  if (p.out_biz_no !== undefined && p.refund_fee !== undefined) return refundEventOf(p, outTradeNo, at);
  if (status === 'TRADE_SUCCESS' || status === 'TRADE_FINISHED') {
    const paid = paidTradeOf(p);
    return paid ? { type: 'trade.paid', paid } : 'paid notification without a readable trade number, amount or time';
  }
  if (status === 'TRADE_CLOSED') return { type: 'trade.closed', outTradeNo };
  return `trade_status ${status || '(none)'} is not one tvpay acts on`;
}

/**
 * A refund's notification (`out_biz_no` is the refund's `out_request_no`). Alipay's `refund_fee` is the
 * trade's total refunded so far, which is what `refundMinor` carries here: the caller compares it with
 * its own refunds of the trade.
 */
function refundEventOf(p: AlipayAnswer, outTradeNo: string, at: Date | undefined): RailEvent | string {
  const refundMinor = yuanToFen(p.refund_fee);
  // gmt_refund carries milliseconds (`yyyy-MM-dd HH:mm:ss.SSS`).
  const when = parseBeijingTime(str(p.gmt_refund).slice(0, 19)) ?? at;
  if (refundMinor === undefined || !when || !str(p.out_biz_no)) return 'refund notification unreadable';
  return { type: 'refund.succeeded', outTradeNo, outRefundNo: str(p.out_biz_no), refundMinor, at: when };
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

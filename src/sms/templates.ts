import { formatMinor } from '../lib/money.ts';
import { capacity, countSegments, smsLength } from './segments.ts';

export type Locale = 'zh-CN' | 'en';

interface Amount {
  amountMinor: number;
  currency: string;
}

const amountText = (locale: Locale, a: Amount) =>
  a.currency === 'CNY' && locale === 'zh-CN' ? `${formatMinor(a.amountMinor, a.currency)}元` : `${formatMinor(a.amountMinor, a.currency)} ${a.currency}`;

/**
 * Builds a text from a template, shortening the product title (never the
 * amount, code, payee or link) until the text fits in `segments` SMS.
 */
function fit(build: (product: string) => string, product: string, segments: number): string {
  let title = product;
  for (;;) {
    const text = build(title);
    if (countSegments(text) <= segments) return text;
    const { encoding, units } = smsLength(text);
    const over = units - capacity(encoding, segments);
    const keep = Math.max(0, [...title].length - Math.max(1, over) - 1);
    if (keep === 0) return build('');
    title = `${[...title].slice(0, keep).join('')}…`;
  }
}

/**
 * The patent's second SMS: product, amount, payee and the one-time code, in
 * one SMS. When the card pays because the wallet is short, it says so.
 */
export function codeSms(
  locale: Locale,
  p: Amount & { product: string; payee: string; code: string; source: 'wallet' | 'card'; cardLast4?: string | null },
): string {
  const amount = amountText(locale, p);
  if (locale === 'zh-CN') {
    const via = p.source === 'wallet' ? '钱包' : `钱包余额不足，将由尾号${p.cardLast4 ?? ''}银行卡`;
    return fit((t) => `${via}支付${t}，金额${amount}，确认支付请回复${p.code}【${p.payee}】`, p.product, 1);
  }
  const via = p.source === 'wallet' ? 'your wallet' : `card *${p.cardLast4 ?? ''} (wallet too low)`;
  return fit((t) => `${p.payee}: pay ${amount} for ${t} from ${via}. Reply ${p.code} to confirm.`, p.product, 1);
}

/** The patent's first SMS for an unbound phone: product, amount and the checkout link; at most two SMS. */
export function linkSms(locale: Locale, p: Amount & { product: string; payee: string; url: string }): string {
  const amount = amountText(locale, p);
  if (locale === 'zh-CN') {
    return fit((t) => `您正在购买${t}，金额${amount}，请点击链接完成支付 ${p.url} 【${p.payee}】`, p.product, 2);
  }
  return fit((t) => `${p.payee}: you are buying ${t} for ${amount}. Pay here: ${p.url}`, p.product, 2);
}

/** The code that proves the holder of a phone is the one on the checkout page. */
export function possessionSms(locale: Locale, p: Amount & { payee: string; code: string; minutes: number }): string {
  const amount = amountText(locale, p);
  if (locale === 'zh-CN') {
    return `验证码${p.code}，用于确认本机号码并支付${amount}，${p.minutes}分钟内有效，请勿告诉他人【${p.payee}】`;
  }
  return `${p.payee} code ${p.code} confirms your number to pay ${amount}. Valid ${p.minutes} min. Never share it.`;
}

/**
 * Told to the phone whenever a payment for it could not go ahead at the
 * payment server (funds short, no quick pay, another currency), so that
 * nobody can learn silently, by typing a number on a TV, whether it has a
 * wallet and what it covers. Nothing was charged.
 */
export function declinedSms(locale: Locale, p: Amount & { product: string; payee: string; reason: string }): string {
  const amount = amountText(locale, p);
  if (locale === 'zh-CN') {
    const why = p.reason === 'INSUFFICIENT_FUNDS' ? '钱包和银行卡余额不足' : p.reason === 'NOT_BOUND' ? '本机号码未开通快捷支付' : '无法用本机号码支付';
    return fit((t) => `有人在电视上用本机号码购买${t}（${amount}），因${why}未能支付，未扣款。如非本人操作请忽略【${p.payee}】`, p.product, 1);
  }
  const why = p.reason === 'INSUFFICIENT_FUNDS' ? 'neither your wallet nor your card covers it' : p.reason === 'NOT_BOUND' ? 'quick pay is not on for this number' : 'this number cannot pay it';
  return fit((t) => `${p.payee}: a TV tried to buy ${t} (${amount}) with this number; ${why}. Nothing was charged.`, p.product, 1);
}

/** Where refunded money went, named the same way in every SMS: the wallet, or the card by its last four digits. */
const sourceText = (locale: Locale, source: 'wallet' | 'card', cardLast4?: string | null) =>
  locale === 'zh-CN' ? (source === 'wallet' ? '钱包' : `尾号${cardLast4 ?? ''}银行卡`) : source === 'wallet' ? 'your wallet' : `card *${cardLast4 ?? ''}`;

/** The last 8 characters of an order id: enough for a person to quote it to the operator. */
export const orderRef = (orderId: string) => orderId.slice(-8);

/**
 * The receipt of a refund: the amount, the product, where the money went
 * back to, and the order it belongs to.
 */
export function refundSms(locale: Locale, p: Amount & { product: string; payee: string; source: 'wallet' | 'card'; cardLast4?: string | null; orderId: string }): string {
  const amount = amountText(locale, p);
  const to = sourceText(locale, p.source, p.cardLast4);
  if (locale === 'zh-CN') {
    return fit((t) => `您购买的${t}已退款${amount}，已原路退回${to}，订单号尾号${orderRef(p.orderId)}【${p.payee}】`, p.product, 1);
  }
  return fit((t) => `${p.payee}: ${amount} for ${t} was refunded to ${to} (order ...${orderRef(p.orderId)}).`, p.product, 1);
}

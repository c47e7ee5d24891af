import { formatMinor } from '../lib/money.ts';
import { capacity, countSegments, smsLength } from './segments.ts';

export type Locale = 'zh-CN' | 'en';

interface Amount {
  amountMinor: number;
  currency: string;
}

const amountText = (locale: Locale, a: Amount) =>
  a.currency === 'CNY' && locale === 'zh-CN'
    ? `${formatMinor(a.amountMinor, a.currency)}元`
    : `${formatMinor(a.amountMinor, a.currency)} ${a.currency}`;

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
  p: Amount & {
    product: string;
    payee: string;
    code: string;
    source: PaySource;
    cardLast4?: string | null;
    renewsEveryDays?: number | null;
    minutes?: number;
  },
): string {
  const amount = amountText(locale, p);
  const minutes = p.minutes ?? 10;
  const days = p.renewsEveryDays;
  if (locale === 'zh-CN') {
    const via =
      p.source === 'wallet'
        ? '钱包'
        : p.source === 'card'
          ? `钱包余额不足，由尾号${p.cardLast4 ?? ''}银行卡`
          : RAIL_TEXT[p.source][locale];
    // A renewing product says so plainly, with how often, how much and how to cancel: replying is the consent
    // (two SMS at most).
    if (days)
      return fit(
        (t) =>
          `${via}支付${t}，金额${amount}，此后每${days}天以快捷支付自动续费${amount}，可随时回复TD或在电视上取消。确认支付并同意自动续费请回复${p.code}【${p.payee}】`,
        p.product,
        2,
      );
    return fit(
      (t) => `${via}支付${t}${amount}，回复${p.code}确认，${minutes}分钟内有效，如非本人操作请忽略【${p.payee}】`,
      p.product,
      1,
    );
  }
  const via =
    p.source === 'wallet'
      ? 'your wallet'
      : p.source === 'card'
        ? `card *${p.cardLast4 ?? ''} (wallet too low)`
        : RAIL_TEXT[p.source][locale];
  if (days)
    return fit(
      (t) =>
        `${p.payee}: pay ${amount} for ${t} from ${via}; it then renews every ${days} days for ${amount} ` +
        `by quick pay until you cancel (reply TD, or on the TV). Reply ${p.code} to confirm and agree.`,
      p.product,
      2,
    );
  return fit(
    (t) =>
      `${p.payee}: pay ${amount} for ${t} from ${via}. ` +
      `Reply ${p.code} within ${minutes} min to confirm; not you? Ignore this.`,
    p.product,
    1,
  );
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
export function declinedSms(
  locale: Locale,
  p: Amount & { product: string; payee: string; reason: string; source?: PaySource | null },
): string {
  const amount = amountText(locale, p);
  const rail = p.source === 'alipay' || p.source === 'wechatpay' ? RAIL_TEXT[p.source][locale] : null;
  if (rail) return railDeclinedSms(locale, { ...p, amount, rail });
  if (p.reason === 'NO_ACCOUNT')
    return fit(
      locale === 'zh-CN'
        ? (t) =>
            `有人在电视上用本机号码购买${t}（${amount}）。本机号码尚未开通${p.payee}钱包，无法支付，未扣款；` +
            `开通钱包后可再试，或在电视上换一个号码。如非本人操作请忽略【${p.payee}】`
        : (t) =>
            `${p.payee}: a TV tried to buy ${t} (${amount}) with this number, which has no ${p.payee} wallet, ` +
            `so nothing was charged. Open a wallet and try again, or use another number on the TV.`,
      p.product,
      2,
    );
  const why = (Object.hasOwn(DECLINED_WHY, p.reason) ? DECLINED_WHY[p.reason]! : DECLINED_WHY.other!)[locale];
  return fit(
    locale === 'zh-CN'
      ? (t) => `有人在电视上用本机号码购买${t}（${amount}），因${why}未能支付，未扣款。如非本人操作请忽略【${p.payee}】`
      : (t) => `${p.payee}: a TV tried to buy ${t} (${amount}) with this number; ${why}. Nothing was charged.`,
    p.product,
    1,
  );
}

/** Why a payment was declined, as its SMS says it. */
const DECLINED_WHY: Record<string, Record<Locale, string>> = {
  INSUFFICIENT_FUNDS: { 'zh-CN': '钱包和银行卡余额不足', en: 'neither your wallet nor your card covers it' },
  NOT_BOUND: { 'zh-CN': '本机号码未开通快捷支付', en: 'quick pay is not on for this number' },
  other: { 'zh-CN': '无法用本机号码支付', en: 'this number cannot pay it' },
};

/** A charge under a rail's agreement that the rail refused, after the payer replied the code: nothing was taken. */
function railDeclinedSms(
  locale: Locale,
  p: { product: string; payee: string; reason: string; amount: string; rail: string },
) {
  if (locale === 'zh-CN') {
    const why = p.reason === 'INSUFFICIENT_FUNDS' ? `${p.rail}余额不足` : `${p.rail}未能扣款`;
    return fit(
      (t) => `购买${t}（${p.amount}）因${why}未能支付，未扣款。可在电视上重试或换一种方式支付【${p.payee}】`,
      p.product,
      1,
    );
  }
  const why = p.reason === 'INSUFFICIENT_FUNDS' ? `your ${p.rail} balance does not cover it` : `${p.rail} refused it`;
  return fit(
    (t) => `${p.payee}: ${t} (${p.amount}) was not paid; ${why}. Nothing was charged. Try again on the TV.`,
    p.product,
    1,
  );
}

/** What paid (or is refunded to): the wallet, the linked card, or a money rail. */
export type PaySource = 'wallet' | 'card' | 'alipay' | 'wechatpay';

/** A money rail as a person reads it in an SMS. */
const RAIL_TEXT = {
  alipay: { 'zh-CN': '支付宝', en: 'Alipay' },
  wechatpay: { 'zh-CN': '微信支付', en: 'WeChat Pay' },
} as const;

/** Where refunded money went, named the same way in every SMS: the wallet, or the card by its last four digits. */
const sourceText = (locale: Locale, source: PaySource, cardLast4?: string | null) =>
  source === 'alipay' || source === 'wechatpay'
    ? RAIL_TEXT[source][locale]
    : locale === 'zh-CN'
      ? source === 'wallet'
        ? '钱包'
        : `尾号${cardLast4 ?? ''}银行卡`
      : source === 'wallet'
        ? 'your wallet'
        : `card *${cardLast4 ?? ''}`;

/** The last 8 characters of an order id: enough for a person to quote it to the operator. */
export const orderRef = (orderId: string) => orderId.slice(-8);

/**
 * The receipt of a refund: the amount, the product, where the money went
 * back to, and the order it belongs to.
 */
export function refundSms(
  locale: Locale,
  p: Amount & { product: string; payee: string; source: PaySource; cardLast4?: string | null; orderId: string },
): string {
  const amount = amountText(locale, p);
  const to = sourceText(locale, p.source, p.cardLast4);
  if (locale === 'zh-CN') {
    return fit(
      (t) => `您购买的${t}已退款${amount}，已原路退回${to}，订单号尾号${orderRef(p.orderId)}【${p.payee}】`,
      p.product,
      1,
    );
  }
  return fit(
    (t) => `${p.payee}: ${amount} for ${t} was refunded to ${to} (order ...${orderRef(p.orderId)}).`,
    p.product,
    1,
  );
}

/** A date as a payer reads it: 2026年12月1日 / 2026-12-01, in the business's time zone. */
export function dayText(locale: Locale, iso: string, timeZone = 'Asia/Shanghai'): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).formatToParts(new Date(iso));
  const get = (t: string) => parts.find((p) => p.type === t)!.value;
  return locale === 'zh-CN'
    ? `${Number(get('year'))}年${Number(get('month'))}月${Number(get('day'))}日`
    : `${get('year')}-${get('month')}-${get('day')}`;
}

/**
 * The notice before an automatic renewal (PRC rules: before every renewal,
 * with the date, the amount and how to cancel; a price change said plainly).
 */
export function renewalNoticeSms(
  locale: Locale,
  p: Amount & { product: string; payee: string; date: string; previousMinor?: number },
): string {
  const amount = amountText(locale, p);
  const changed = p.previousMinor !== undefined && p.previousMinor !== p.amountMinor;
  if (locale === 'zh-CN') {
    const price = changed
      ? `（价格由${amountText(locale, { ...p, amountMinor: p.previousMinor! })}调整为${amount}）`
      : '';
    return fit(
      (t) =>
        `您的${t}将于${p.date}自动续费${amount}${price}，如不需要请回复TD取消，或在电视“我的服务”中取消【${p.payee}】`,
      p.product,
      2,
    );
  }
  const price = changed
    ? ` (the price changes from ${amountText(locale, { ...p, amountMinor: p.previousMinor! })})`
    : '';
  return fit(
    (t) =>
      `${p.payee}: ${t} renews on ${p.date} for ${amount}${price}. ` +
      `Reply TD to cancel, or cancel under "My services" on the TV.`,
    p.product,
    2,
  );
}

/** What a receipt names: the product, the amount, what paid it (the card by its last four digits) and the order. */
type Receipt = Amount & {
  product: string;
  payee: string;
  source: PaySource;
  cardLast4?: string | null;
  orderId: string;
};

/** A receipt in one SMS, in the locale's words: `say(product, amount, paid from, order reference)`. */
function receiptSms(
  locale: Locale,
  p: Receipt,
  say: Record<Locale, (t: string, amount: string, from: string, ref: string) => string>,
): string {
  const amount = amountText(locale, p);
  const from = sourceText(locale, p.source, p.cardLast4);
  const ref = orderRef(p.orderId);
  return fit((t) => say[locale](t, amount, from, ref), p.product, 1);
}

/** A renewal charged under the agreement: the receipt. */
export function renewalReceiptSms(locale: Locale, p: Receipt): string {
  return receiptSms(locale, p, {
    'zh-CN': (t, amount, from, ref) =>
      `${t}已自动续费，${from}支付${amount}，订单号尾号${ref}，回复TD可取消续费【${p.payee}】`,
    en: (t, amount, from, ref) =>
      `${p.payee}: ${t} renewed; ${amount} paid from ${from} (order ...${ref}). Reply TD to stop renewals.`,
  });
}

/** A renewal that could not be charged: when it is tried again, or that renewals stopped. */
export function renewalFailedSms(
  locale: Locale,
  p: Amount & { product: string; payee: string; retryDate: string | null },
): string {
  const amount = amountText(locale, p);
  if (locale === 'zh-CN') {
    return p.retryDate
      ? fit(
          (t) =>
            `${t}自动续费${amount}未能扣款（余额不足或快捷支付已关闭），将于${p.retryDate}再试，回复TD可取消【${p.payee}】`,
          p.product,
          1,
        )
      : fit((t) => `${t}自动续费多次未能扣款，已停止续费，服务到期后不再扣费【${p.payee}】`, p.product, 1);
  }
  return p.retryDate
    ? fit(
        (t) =>
          `${p.payee}: the renewal of ${t} (${amount}) could not be charged; ` +
          `we try again on ${p.retryDate}. Reply TD to cancel.`,
        p.product,
        1,
      )
    : fit(
        (t) =>
          `${p.payee}: the renewal of ${t} could not be charged again, so renewals have stopped. ` +
          `Nothing more will be charged.`,
        p.product,
        1,
      );
}

/** A cancellation confirmed: the period already paid for is kept. */
export function subscriptionCancelledSms(locale: Locale, p: { product: string; payee: string; until: string }): string {
  if (locale === 'zh-CN')
    return fit((t) => `已为您取消${t}自动续费，已付费的服务可用至${p.until}，不会再扣费【${p.payee}】`, p.product, 1);
  return fit(
    (t) => `${p.payee}: renewals of ${t} are cancelled. You keep it until ${p.until}; nothing more will be charged.`,
    p.product,
    1,
  );
}

/** A renewing purchase was refunded in full: its renewals end with it (the period is not kept, it was paid back). */
export function subscriptionRefundedSms(locale: Locale, p: { product: string; payee: string }): string {
  if (locale === 'zh-CN') return fit((t) => `${t}已全额退款，其自动续费已取消，不会再扣费【${p.payee}】`, p.product, 1);
  return fit(
    (t) => `${p.payee}: ${t} was refunded in full, so its renewals are cancelled; nothing more will be charged.`,
    p.product,
    1,
  );
}

/** A TD from a phone with nothing to cancel. */
export function nothingToCancelSms(locale: Locale, p: { payee: string }): string {
  return locale === 'zh-CN'
    ? `您没有需要取消的自动续费服务【${p.payee}】`
    : `${p.payee}: there is no renewal to cancel for this number.`;
}

/** What a reply that confirmed nothing is answered with (API "What the viewer is told"). */
export type ReplyAnswer = 'wrong_code' | 'confirmation_failed' | 'order_closed' | 'no_pending' | 'no_code';

export function replyAnswerSms(locale: Locale, kind: ReplyAnswer, p: { payee: string; triesLeft?: number }): string {
  if (locale === 'zh-CN') {
    const text = {
      wrong_code: `验证码不正确，还可尝试${p.triesLeft ?? 0}次。请回复短信中的6位验证码`,
      confirmation_failed: '验证码错误次数过多，本次支付已取消，未扣款',
      order_closed: '该订单已结束（已取消或已过期），未扣款',
      no_pending: '您没有待确认的支付：订单可能已支付、已取消或已过期',
      no_code: '未识别到验证码，请回复短信中的6位数字验证码；回复TD可取消自动续费',
    }[kind];
    return `${text}【${p.payee}】`;
  }
  const text = {
    wrong_code: `That code is not right; ${p.triesLeft ?? 0} tries left. Reply the 6-digit code from the SMS.`,
    confirmation_failed: 'Too many wrong codes: the payment is cancelled and nothing was charged.',
    order_closed: 'That order has ended (cancelled or expired); nothing was charged.',
    no_pending: 'There is no payment waiting for a code: it was paid, cancelled or has expired.',
    no_code: 'No code found: reply the 6-digit code from the SMS, or TD to stop a renewal.',
  }[kind];
  return `${p.payee}: ${text}`;
}

/** The receipt of a completed payment: product, amount, source, and the order. */
export function paymentReceiptSms(locale: Locale, p: Receipt): string {
  return receiptSms(locale, p, {
    'zh-CN': (t, amount, from, ref) => `支付成功：${t}，${amount}，由${from}支付，订单号尾号${ref}【${p.payee}】`,
    en: (t, amount, from, ref) => `${p.payee}: paid ${amount} for ${t} from ${from} (order ...${ref}).`,
  });
}

/** Quick pay turned on from the checkout page, confirmed; through a rail's agreement, it names the rail paying. */
export function quickPayOnSms(locale: Locale, p: { payee: string; rail?: 'alipay' | 'wechatpay' }): string {
  if (locale === 'zh-CN') {
    const via = p.rail ? `（由${RAIL_TEXT[p.rail][locale]}付款，可在${RAIL_TEXT[p.rail][locale]}中解约）` : '';
    return `您已开通${p.payee}快捷支付${via}：以后在电视上购买时，回复短信验证码即可支付。如非本人操作请联系客服【${p.payee}】`;
  }
  const via = p.rail ? ` through ${RAIL_TEXT[p.rail][locale]} (end it there any time)` : '';
  return (
    `${p.payee}: quick pay is on${via}; next time you buy on the TV, reply the SMS code to pay. ` +
    `Not you? Contact us.`
  );
}

import { html, page, type Html } from '../../lib/html.ts';
import { formatPrice } from '../../lib/money-format.ts';
import { maskPhone } from '../../lib/phone.ts';
import { formatTime } from '../../lib/time-format.ts';
import { orderRef, type PaySource } from '../../sms/templates.ts';
import type { RailChoice } from '../rail-payments/checkout-rails.ts';
import type { Checkout, MerchantRefund, PayOptions } from './checkout-service.ts';

export type PageLang = 'zh-CN' | 'en';

/**
 * What a form post left for the page to say once: an error code of the catalogue with what the
 * payer needs of it (tries left, seconds to wait), or `CONFIRMING` after a payment whose merchant
 * verdict has not come back yet. Only codes and numbers: the words are the page's, in its language.
 */
export interface PageNotice {
  code: string;
  triesLeft?: number;
  retryAfterSeconds?: number;
}

/** How a paid checkout was paid, for its success. */
export interface PaidWith {
  paidAt: string;
  source: PaySource;
  cardLast4: string | null;
}

/** How long the resend button waits after a code was sent. */
const RESEND_SECONDS = 60;

/** A sentence of the page in both its languages, side by side, so neither is written or changed without the other. */
const both = <V>(zh: V, en: V): Readonly<Record<PageLang, V>> => ({ 'zh-CN': zh, en });

/** The page's words, each in both languages. */
const WORDS = {
  title: both('手机支付', 'Pay by phone'),
  payee: both('收款方：', 'Payee: '),
  cardNamed: both(
    (last4: string) => `银行卡（尾号${last4}）`,
    (last4: string) => `Card ending ${last4}`,
  ),
  product: both('商品', 'Product'),
  phone: both('手机号', 'Phone'),
  sendCode: both('发送验证码到本机', 'Text a code to this phone'),
  codeHint: both(
    '我们已向 {phone} 发送验证码，请输入以确认是您本人。',
    'We texted a code to {phone}. Enter it to confirm this phone is yours.',
  ),
  code: both('验证码', 'Code'),
  verify: both('确认', 'Confirm'),
  choose: both('选择付款方式', 'How do you want to pay?'),
  wallet: both('钱包余额', 'Wallet'),
  card: both('银行卡', 'Bank card'),
  available: both('可用', 'available'),
  quickPay: both('以后在电视上购买时，用短信验证码快捷支付', 'Next time, pay on the TV with an SMS code (quick pay)'),
  renews: both(
    '这是自动续费产品：此后每{days}天以快捷支付自动续费{amount}，每次续费前短信提醒，可随时回复TD或在电视上取消。不勾选下面这一项，只购买这一期。',
    'This renews: every {days} days {amount} is charged by quick pay, with an SMS before each renewal; ' +
      'cancel any time by texting TD or on the TV. Without the box below you buy this one period only.',
  ),
  renewConsent: both('同意开通快捷支付，并按上述方式自动续费', 'I agree to quick pay and to these renewals'),
  pay: both('确认支付', 'Pay now'),
  paid: both('支付成功，电视上的内容已开通。', 'Paid. Your TV is turning on what you bought.'),
  closed: both('这笔订单已关闭，无法支付。', 'This order is closed and can no longer be paid.'),
  refunded: both(
    '这笔订单在付款时已结束（已取消或已过期），款项已原路退回，未扣款。',
    'This order had already ended (cancelled or expired) when you paid, ' +
      'so the money went back to where it came from.',
  ),
  merchantRefunded: both(
    (amount: string) => `这笔订单已付款，之后商户已退款${amount}，款项已原路退回。`,
    (amount: string) =>
      `This order was paid, then refunded by the merchant: ${amount} went back to where it was paid from.`,
  ),
  refundAmount: both('退款金额', 'Refunded'),
  refundedTo: both('退回至', 'Refunded to'),
  refundedAt: both('退款时间', 'Refunded at'),
  confirming: both(
    '已付款，正在等待商户确认。如订单已结束，款项将原路退回。',
    'Paid; waiting for the merchant to confirm. If the order had ended, the money goes back by itself.',
  ),
  noAccount: both(
    (payee: string) => `这个号码在${payee}还没有钱包，无法在此支付。请在电视上换一个已开通钱包的手机号。`,
    (payee: string) =>
      `This number has no wallet at ${payee}, so it cannot pay here. On the TV, try another number that has one.`,
  ),
  insufficient: both('余额不足', 'not enough'),
  resend: both('重新发送验证码', 'Text me a new code'),
  resendIn: both('秒后可重新发送', ' s until you can ask again'),
  agreement: both('快捷支付服务协议', 'Quick pay agreement'),
  agreementText: both(
    [
      '开通快捷支付后，您在电视上购买商品时，收款方将通过短信向本手机号发送验证码；您回复验证码即表示同意从钱包（余额不足时从绑定的银行卡）付款。',
      '每一笔付款都需要您回复当次的验证码；未回复的付款不会扣款。自动续费产品在每次续费前以短信提醒，回复TD即可取消。',
      '您可以随时联系钱包服务方关闭快捷支付。',
    ],
    [
      'With quick pay on, when you buy on the TV the payee texts a code to this phone; replying with the code ' +
        'agrees to pay from your wallet (or, when it does not cover the amount, from the linked bank card).',
      'Every payment needs the code of that payment; nothing is charged without your reply. ' +
        'A package that renews texts you before each renewal; reply TD to cancel it.',
      'You can ask your wallet provider to turn quick pay off at any time.',
    ],
  ),
  readAgreement: both('阅读协议', 'Read the agreement'),
  orderNo: both('订单号', 'Order number'),
  paidAt: both('支付时间', 'Paid at'),
  paidBy: both('付款方式', 'Paid with'),
  somethingWrong: both('出了点问题，请重试。', 'Something went wrong; please try again.'),
};

/** What the page says of a notice's error code (a code not here gets `somethingWrong`). */
const ERRORS: Readonly<Record<string, Readonly<Record<PageLang, (n: PageNotice) => string>>>> = {
  CHECKOUT_NOT_FOUND: both(
    () => '这个支付链接无效。请在电视上重新下单。',
    () => 'This payment link is not valid. Start again on the TV.',
  ),
  CODE_INCORRECT: both(
    (n: PageNotice) => `验证码不正确，还可尝试${n.triesLeft ?? 0}次。`,
    (n: PageNotice) => `That code is not right; ${n.triesLeft ?? 0} tries left.`,
  ),
  CONFIRMATION_FAILED: both(
    () => '验证码错误次数过多，请重新获取验证码。',
    () => 'Too many wrong codes; ask for a new code.',
  ),
  CODE_NOT_SENT: both(
    () => '请先获取验证码。',
    () => 'Ask for a code first.',
  ),
  CODE_EXPIRED: both(
    () => '验证码已过期，请重新获取。',
    () => 'The code has expired; ask for a new one.',
  ),
  GRANT_INVALID: both(
    () => '页面已过期，请重新获取验证码。',
    () => 'This page has expired; ask for a new code.',
  ),
  PAYMENT_IN_PROGRESS: both(
    () => '这笔订单正在另一个页面支付，请稍后刷新查看结果。',
    () => 'This order is being paid on another page; reload in a moment to see how it went.',
  ),
  CURRENCY_MISMATCH: both(
    () => '钱包的币种与订单不同，无法支付。',
    () => "The wallet's currency is not the order's, so it cannot pay.",
  ),
  SOURCE_NOT_FOUND: both(
    () => '没有这个付款方式，请选择其他方式。',
    () => 'That way to pay is not available; choose another.',
  ),
  INSUFFICIENT_FUNDS: both(
    () => '余额不足，请选择其他付款方式。',
    () => 'There is not enough money there; choose another way to pay.',
  ),
  ORDER_FINAL: both(
    () => '这笔订单已结束，无法支付。',
    () => 'This order has ended and can no longer be paid.',
  ),
  RATE_LIMITED: both(
    (n: PageNotice) => `操作过于频繁，请${n.retryAfterSeconds ?? 60}秒后再试。`,
    (n: PageNotice) => `Too many tries; try again in ${n.retryAfterSeconds ?? 60} s.`,
  ),
  SMS_BUDGET_EXHAUSTED: both(
    () => '今天暂时无法再发送短信，请稍后再试。',
    () => 'No more texts can be sent today; try again later.',
  ),
};

/** Each entry of `table` in one language. */
function inLanguage<W extends Readonly<Record<string, Readonly<Record<PageLang, unknown>>>>>(table: W, lang: PageLang) {
  const picked = Object.entries(table).map(([key, words]) => [key, words[lang]]);
  return Object.fromEntries(picked) as { [K in keyof W]: W[K][PageLang] };
}

/** The page's words in each language, as the page reads them: `T[lang].title`. */
const T = {
  'zh-CN': { ...inLanguage(WORDS, 'zh-CN'), errors: inLanguage(ERRORS, 'zh-CN') },
  en: { ...inLanguage(WORDS, 'en'), errors: inLanguage(ERRORS, 'en') },
};

const money = formatPrice;

function summary(lang: PageLang, c: Checkout): Html {
  const t = T[lang];
  return html`<div class="card"><div class="muted">${t.payee}${c.payee}</div>
<div class="amount" data-testid="amount">${money(Number(c.amount_minor), c.currency)}</div>
<div class="row"><span>${t.product}</span><strong>${c.product_title}</strong></div>
<div class="row"><span>${t.phone}</span><span>${maskPhone(c.phone)}</span></div></div>`;
}

/** The page's words for a notice, in its language; an error has `data-error` with its code, for tests and support. */
function noticeHtml(lang: PageLang, n: PageNotice | undefined): Html | '' {
  if (!n || n.code === 'CONFIRMING') return '';
  const say = T[lang].errors[n.code];
  return html`<div class="error" role="alert" data-error="${n.code}">${say ? say(n) : T[lang].somethingWrong}</div>`;
}

function shell(lang: PageLang, c: Checkout, token: string, content: Html, notice?: PageNotice, head?: Html): string {
  const t = T[lang];
  const other = lang === 'zh-CN' ? 'en' : 'zh-CN';
  return page({
    title: `${t.title} · ${c.payee}`,
    lang,
    head,
    body: html`<main><h1>${t.title}</h1>${noticeHtml(lang, notice)}${summary(lang, c)}${content}
<p class="muted"><a href="/pay/${token}?lang=${other}">${other === 'en' ? 'English' : '中文'}</a></p></main>`,
  });
}

function success(lang: PageLang, c: Checkout, confirming: boolean, paid: PaidWith | null, timeZone: string): Html {
  const t = T[lang];
  const rows = html`${receiptHead(t, c)}
${
  paid
    ? html`${receiptRow(t.paidAt, formatTime(paid.paidAt, lang, timeZone))}
${receiptRow(t.paidBy, paidByText(lang, paid))}`
    : ''
}</div>`;
  const outcome = confirming ? 'confirming' : 'paid';
  const said = confirming ? t.confirming : t.paid;
  return html`<div class="ok" role="status" data-outcome="${outcome}">${said}</div>${rows}`;
}

/** A receipt's card, opened with the order's number (the one its SMS carry). */
const receiptHead = (t: (typeof T)[PageLang], c: Checkout) =>
  html`<div class="card" data-testid="receipt"><div class="row"><span>${t.orderNo}</span>\
<strong>${orderRef(c.order_id)}</strong></div>`;

/** A receipt's row: what, and its value. */
const receiptRow = (label: string, value: string) =>
  html`<div class="row"><span>${label}</span><span>${value}</span></div>`;

/** One POST form per rail that is on, each answered with a redirect to that rail's payment page; no code needed. */
function railForms(
  lang: PageLang,
  token: string,
  rails: readonly RailChoice[],
  quickPay?: { label: string },
): Html | '' {
  if (rails.length === 0) return '';
  const zh = lang === 'zh-CN';
  // Once the phone is proven, a rail that signs agreements offers quick pay through it (unticked, its own box).
  const sign = (r: RailChoice) =>
    quickPay && r.agreements
      ? consent(lang, `${quickPay.label}${zh ? `（${r.title[lang]}）` : ` (${r.title[lang]})`}`)
      : '';
  const dev = html`<p class="muted" data-testid="dev-rail">\
${zh ? '开发环境：不会扣真钱。' : 'Development gateway: no real money moves.'}</p>`;
  const form = (r: RailChoice) =>
    html`<form method="post" action="/pay/${token}/rail?lang=${lang}">\
<input type="hidden" name="rail" value="${r.rail}">\
${sign(r)}<button class="secondary" type="submit" data-rail="${r.rail}">\
${zh ? '使用' : 'Pay with '}${r.title[lang]}${zh ? '支付' : ''}</button>${r.dev ? dev : ''}</form>`;
  const intro = zh ? '或使用以下方式支付（无需验证码）：' : 'Or pay with (no code needed):';
  return html`<div class="card" data-testid="rails"><p>${intro}</p>${rails.map(form)}</div>`;
}

/** What paid, as the receipt names it: the wallet, the card by its last four digits, or the rail. */
function paidByText(lang: PageLang, paid: Pick<PaidWith, 'source' | 'cardLast4'>): string {
  const t = T[lang];
  if (paid.source === 'card') return t.cardNamed(paid.cardLast4 ?? '');
  if (paid.source === 'alipay') return lang === 'zh-CN' ? '支付宝' : 'Alipay';
  if (paid.source === 'wechatpay') return lang === 'zh-CN' ? '微信支付' : 'WeChat Pay';
  return t.wallet;
}

/** A paid order the merchant then refunded: what went back, where to and when, under the order's number. */
function merchantRefunded(lang: PageLang, c: Checkout, r: MerchantRefund, timeZone: string): Html {
  const t = T[lang];
  const amount = money(r.amountMinor, r.currency);
  return html`<div class="error" role="status" data-outcome="merchant-refunded">${t.merchantRefunded(amount)}</div>
${receiptHead(t, c)}
${receiptRow(t.refundAmount, amount)}
${receiptRow(t.refundedTo, paidByText(lang, { source: r.source, cardLast4: r.cardLast4 }))}
${receiptRow(t.refundedAt, formatTime(r.refundedAt, lang, timeZone))}</div>`;
}

/** What the quick-pay box beside a rail says: a renewing product's renewals are charged under the agreement too. */
const railQuickPay = (t: (typeof T)[PageLang], c: Checkout) => ({ label: c.renews_days ? t.renewConsent : t.quickPay });

/** The quick-pay consent: a box of its own, unticked, with the agreement a tap away; never one of the ways to pay. */
function consent(lang: PageLang, label: string): Html {
  const t = T[lang];
  return html`<fieldset class="consent"><legend>${t.agreement}</legend>\
<label><input type="checkbox" name="quickPay" value="yes"> <span>${label}</span></label>
<a href="/pay/agreement?lang=${lang}" target="_blank" rel="noopener">${t.readAgreement}</a></fieldset>`;
}

export const checkoutPages = {
  start(
    lang: PageLang,
    c: Checkout,
    token: string,
    o: {
      payable: boolean;
      notice?: PageNotice;
      paidWith?: PaidWith | null;
      merchantRefund?: MerchantRefund | null;
      timeZone?: string;
      rails?: readonly RailChoice[];
    },
  ): string {
    const t = T[lang];
    if (c.status === 'paid')
      return shell(
        lang,
        c,
        token,
        success(lang, c, o.notice?.code === 'CONFIRMING', o.paidWith ?? null, o.timeZone ?? 'Asia/Shanghai'),
      );
    // Paid, then refunded in full by the merchant (an operator's refund, or a provisioning that never came).
    if (c.status === 'closed' && c.paid_payment_id && o.merchantRefund)
      return shell(lang, c, token, merchantRefunded(lang, c, o.merchantRefund, o.timeZone ?? 'Asia/Shanghai'));
    // A payment that captured while the order was ending is refused by the merchant and refunded.
    if (c.status === 'closed' && c.paid_payment_id)
      return shell(lang, c, token, html`<div class="error" role="status" data-outcome="refunded">${t.refunded}</div>`);
    if (!o.payable) return shell(lang, c, token, html`<div class="error" data-outcome="closed">${t.closed}</div>`);
    return shell(
      lang,
      c,
      token,
      html`<form method="post" action="/pay/${token}/code?lang=${lang}">\
<button type="submit">${t.sendCode}</button></form>\
${railForms(lang, token, o.rails ?? [])}`,
      o.notice,
    );
  },
  code(lang: PageLang, c: Checkout, token: string, o: { sentSecondsAgo: number; notice?: PageNotice }): string {
    const t = T[lang];
    const wait = Math.max(0, RESEND_SECONDS - o.sentSecondsAgo);
    return shell(
      lang,
      c,
      token,
      html`<form method="post" action="/pay/${token}/verify?lang=${lang}" class="card">\
<p>${t.codeHint.replace('{phone}', maskPhone(c.phone))}</p>
<label>${t.code}<input name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="12" required></label>
<button type="submit">${t.verify}</button></form><form method="post" action="/pay/${token}/code?lang=${lang}">\
<button class="secondary" type="submit" data-countdown="${wait}" data-countdown-unit="${t.resendIn}">\
${t.resend}</button></form>`,
      o.notice,
      html`<script src="/pay/assets/countdown.js" defer></script>`,
    );
  },
  choose(
    lang: PageLang,
    c: Checkout,
    token: string,
    o: PayOptions,
    notice?: PageNotice,
    rails: readonly RailChoice[] = [],
  ): string {
    const t = T[lang];
    const amount = Number(c.amount_minor);
    if (!o.wallet && !o.card)
      return shell(
        lang,
        c,
        token,
        html`<div class="error" data-error="NO_ACCOUNT">${t.noAccount(c.payee)}</div>\
${railForms(lang, token, rails, railQuickPay(t, c))}`,
        notice,
      );
    const choice = (value: string, label: string, available: number, checked: boolean) =>
      html`<label class="choice"><input type="radio" name="source" value="${value}" ${checked ? html`checked` : ''}>
<span>${label}<br><span class="muted">${t.available} ${money(available, c.currency)}\
${available < amount ? ` · ${t.insufficient}` : ''}</span></span></label>`;
    const walletCovers = (o.wallet?.availableMinor ?? 0) >= amount;
    const renews = t.renews.replace('{days}', String(c.renews_days)).replace('{amount}', money(amount, c.currency));
    return shell(
      lang,
      c,
      token,
      html`<form method="post" action="/pay/${token}/pay?lang=${lang}" class="card">\
<fieldset class="sources"><legend>${t.choose}</legend>
${o.wallet ? choice('wallet', t.wallet, o.wallet.availableMinor, walletCovers || !o.card) : ''}
${o.card ? choice('card', t.cardNamed(o.card.last4), o.card.availableMinor, !walletCovers) : ''}</fieldset>
${
  c.renews_days
    ? html`<p class="muted" data-testid="renews">${renews}</p>${consent(lang, t.renewConsent)}`
    : o.quickPay
      ? ''
      : consent(lang, t.quickPay)
}
<button type="submit">${t.pay} ${money(amount, c.currency)}</button></form>\
${railForms(lang, token, rails, railQuickPay(t, c))}`,
      notice,
    );
  },
  /** The quick-pay agreement the consent box links to. */
  agreement(lang: PageLang): string {
    const t = T[lang];
    return page({
      title: t.agreement,
      lang,
      body: html`<main><h1>${t.agreement}</h1>\
<div class="card">${t.agreementText.map((p) => html`<p>${p}</p>`)}</div></main>`,
    });
  },
  error(lang: PageLang, notice: PageNotice): string {
    return page({
      title: T[lang].title,
      lang,
      body: html`<main><h1>${T[lang].title}</h1>${noticeHtml(lang, notice)}</main>`,
    });
  },
};

/** Turns the resend button into a countdown; without JavaScript it is a plain button (the rate limits still hold). */
export const COUNTDOWN_SCRIPT = `document.querySelectorAll('[data-countdown]').forEach(function (b) {
  var left = Number(b.getAttribute('data-countdown')); var label = b.textContent; \
var unit = b.getAttribute('data-countdown-unit');
  function tick() { if (left <= 0) { b.disabled = false; b.textContent = label; return; } \
b.disabled = true; b.textContent = left + unit; left--; setTimeout(tick, 1000); }
  tick();
});`;

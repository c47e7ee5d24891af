import { html, page, type Html } from '../../lib/html.ts';
import { formatPrice } from '../../lib/money-format.ts';
import { maskPhone } from '../../lib/phone.ts';
import type { Checkout, PayOptions } from './checkout-service.ts';

export type PageLang = 'zh-CN' | 'en';

const T = {
  'zh-CN': {
    title: '手机支付',
    payee: '收款方：',
    cardNamed: (last4: string) => `银行卡（尾号${last4}）`,
    product: '商品',
    phone: '手机号',
    sendCode: '发送验证码到本机',
    codeHint: '我们已向 {phone} 发送验证码，请输入以确认是您本人。',
    code: '验证码',
    verify: '确认',
    choose: '选择付款方式',
    wallet: '钱包余额',
    card: '银行卡',
    available: '可用',
    quickPay: '以后在电视上购买时，用短信验证码快捷支付',
    renews: '这是自动续费产品：此后每{days}天以快捷支付自动续费{amount}，每次续费前短信提醒，可随时回复TD或在电视上取消。不勾选下面这一项，只购买这一期。',
    renewConsent: '同意开通快捷支付，并按上述方式自动续费',
    pay: '确认支付',
    paid: '支付成功，电视上的内容已开通。',
    closed: '这笔订单已关闭，无法支付。',
    refunded: '这笔订单在付款时已结束（已取消或已过期），款项已原路退回，未扣款。',
    confirming: '已付款，正在等待商户确认。如订单已结束，款项将原路退回。',
    noAccount: '这个号码还没有钱包，无法在此支付。',
    insufficient: '余额不足',
  },
  en: {
    title: 'Pay by phone',
    payee: 'Payee: ',
    cardNamed: (last4: string) => `Card ending ${last4}`,
    product: 'Product',
    phone: 'Phone',
    sendCode: 'Text a code to this phone',
    codeHint: 'We texted a code to {phone}. Enter it to confirm this phone is yours.',
    code: 'Code',
    verify: 'Confirm',
    choose: 'How do you want to pay?',
    wallet: 'Wallet',
    card: 'Bank card',
    available: 'available',
    quickPay: 'Next time, pay on the TV with an SMS code (quick pay)',
    renews: 'This renews: every {days} days {amount} is charged by quick pay, with an SMS before each renewal; cancel any time by texting TD or on the TV. Without the box below you buy this one period only.',
    renewConsent: 'I agree to quick pay and to these renewals',
    pay: 'Pay now',
    paid: 'Paid. Your TV is turning on what you bought.',
    closed: 'This order is closed and can no longer be paid.',
    refunded: 'This order had already ended (cancelled or expired) when you paid, so the money went back to where it came from.',
    confirming: 'Paid; waiting for the merchant to confirm. If the order had ended, the money goes back by itself.',
    noAccount: 'This number has no wallet to pay from.',
    insufficient: 'not enough',
  },
} as const;

const money = formatPrice;

function summary(lang: PageLang, c: Checkout): Html {
  const t = T[lang];
  return html`<div class="card"><div class="muted">${t.payee}${c.payee}</div>
<div class="amount" data-testid="amount">${money(Number(c.amount_minor), c.currency)}</div>
<div class="row"><span>${t.product}</span><strong>${c.product_title}</strong></div>
<div class="row"><span>${t.phone}</span><span>${maskPhone(c.phone)}</span></div></div>`;
}

function shell(lang: PageLang, c: Checkout, token: string, content: Html, error?: string): string {
  const t = T[lang];
  const other = lang === 'zh-CN' ? 'en' : 'zh-CN';
  return page({
    title: `${t.title} · ${c.payee}`,
    lang,
    body: html`<main><h1>${t.title}</h1>${error ? html`<div class="error" role="alert">${error}</div>` : ''}${summary(lang, c)}${content}
<p class="muted"><a href="/pay/${token}?lang=${other}">${other === 'en' ? 'English' : '中文'}</a></p></main>`,
  });
}

export const checkoutPages = {
  /** `confirming`: the payment was just taken and the merchant's verdict on it has not come back yet. */
  start(lang: PageLang, c: Checkout, token: string, payable: boolean, error?: string, confirming = false): string {
    const t = T[lang];
    if (c.status === 'paid') return shell(lang, c, token, html`<div class="ok" role="status" data-outcome="${confirming ? 'confirming' : 'paid'}">${confirming ? t.confirming : t.paid}</div>`);
    // A payment that captured while the order was ending is refused by the merchant and refunded.
    if (c.status === 'closed' && c.paid_payment_id) return shell(lang, c, token, html`<div class="error" role="status" data-outcome="refunded">${t.refunded}</div>`);
    if (!payable) return shell(lang, c, token, html`<div class="error">${t.closed}</div>`);
    return shell(lang, c, token, html`<form method="post" action="/pay/${token}/code?lang=${lang}"><button type="submit">${t.sendCode}</button></form>`, error);
  },
  code(lang: PageLang, c: Checkout, token: string, sessionId: string, error?: string): string {
    const t = T[lang];
    return shell(
      lang,
      c,
      token,
      html`<form method="post" action="/pay/${token}/verify?lang=${lang}" class="card"><p>${t.codeHint.replace('{phone}', maskPhone(c.phone))}</p>
<input type="hidden" name="session" value="${sessionId}"><label>${t.code}<input name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="12" required></label>
<button type="submit">${t.verify}</button></form><form method="post" action="/pay/${token}/code?lang=${lang}"><button class="secondary" type="submit">${t.sendCode}</button></form>`,
      error,
    );
  },
  choose(lang: PageLang, c: Checkout, token: string, grant: string, o: PayOptions, error?: string): string {
    const t = T[lang];
    const amount = Number(c.amount_minor);
    if (!o.wallet && !o.card) return shell(lang, c, token, html`<div class="error">${t.noAccount}</div>`, error);
    const choice = (value: string, label: string, available: number, checked: boolean) =>
      html`<label class="choice"><input type="radio" name="source" value="${value}" ${checked ? html`checked` : ''}>
<span>${label}<br><span class="muted">${t.available} ${money(available, c.currency)}${available < amount ? ` · ${t.insufficient}` : ''}</span></span></label>`;
    const walletCovers = (o.wallet?.availableMinor ?? 0) >= amount;
    return shell(
      lang,
      c,
      token,
      html`<form method="post" action="/pay/${token}/pay?lang=${lang}" class="card"><h2>${t.choose}</h2><input type="hidden" name="grant" value="${grant}">
${o.wallet ? choice('wallet', t.wallet, o.wallet.availableMinor, walletCovers || !o.card) : ''}
${o.card ? choice('card', t.cardNamed(o.card.last4), o.card.availableMinor, !walletCovers) : ''}
${c.renews_days
  ? html`<p class="muted" data-testid="renews">${t.renews.replace('{days}', String(c.renews_days)).replace('{amount}', money(amount, c.currency))}</p><label class="choice"><input type="checkbox" name="quickPay" value="yes"><span>${t.renewConsent}</span></label>`
  : o.quickPay ? '' : html`<label class="choice"><input type="checkbox" name="quickPay" value="yes"><span>${t.quickPay}</span></label>`}
<button type="submit">${t.pay} ${money(amount, c.currency)}</button></form>`,
      error,
    );
  },
  error(lang: PageLang, message: string): string {
    return page({ title: T[lang].title, lang, body: html`<main><h1>${T[lang].title}</h1><div class="error" role="alert">${message}</div></main>` });
  },
};

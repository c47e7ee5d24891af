import { html, page, type Html } from '../../lib/html.ts';
import { fenToYuan } from '../../payserver/rails/alipay/amounts.ts';
import { DEFAULT_AGREEMENT_BALANCE_FEN } from './service.ts';
import type { Trade } from './store.ts';

/** Said plainly on every page of the development Alipay. */
export const NO_REAL_MONEY = '开发用支付宝 — 不会有真实资金流动 / Development Alipay: no real money moves';

const CSS =
  '.dev{background:#fff4d6;color:#6b4b00;border-radius:10px;padding:10px 12px;margin-bottom:14px;font-size:15px}';

function shell(title: string, body: Html): string {
  return page({
    title,
    lang: 'zh-CN',
    css: CSS,
    body: html`<main><p class="dev" role="note">${NO_REAL_MONEY}</p><h1>${title}</h1>${body}</main>`,
  });
}

function tradeCard(trade: Trade, merchant: string): Html {
  return html`<div class="card">
    <div class="amount">¥${fenToYuan(trade.total_fen)}</div>
    <div class="row"><span class="muted">商户 / Merchant</span><span>${merchant}</span></div>
    <div class="row"><span class="muted">商品 / Subject</span><span>${trade.subject}</span></div>
    <div class="row"><span class="muted">订单号 / Order</span><span>${trade.out_trade_no}</span></div>
  </div>`;
}

/** The cashier a wap.pay redirect lands on: pay, pay and sign the agreement, or decline. */
export function cashierPage(trade: Trade, merchant: string, action: string): string {
  const signing = trade.agreement_sign !== null;
  const sign = signing
    ? html`<label class="muted" for="balance">开发余额（元），用于之后的扣款 / Dev balance for later charges (yuan)</label>
        <input type="text" inputmode="decimal" id="balance" name="balance"
          value="${fenToYuan(DEFAULT_AGREEMENT_BALANCE_FEN)}">
        <button type="submit" name="action" value="pay_sign">付款并签约 / Pay and sign the agreement</button>`
    : html``;
  return shell(
    '支付宝收银台 / Alipay cashier',
    html`${tradeCard(trade, merchant)}
      <form method="post" action="${action}">
        <button type="submit" name="action" value="pay">付款 / Pay</button>
        ${sign}
        <button type="submit" name="action" value="decline" class="secondary">拒绝 / Decline</button>
      </form>`,
  );
}

/** What the payer's Alipay app shows after scanning the TV's code. */
export function scanPage(trade: Trade, merchant: string, qr: string, action: string): string {
  return shell(
    '扫码付款 / Scan to pay',
    html`${tradeCard(trade, merchant)}
      <form method="post" action="${action}">
        <input type="hidden" name="qr" value="${qr}">
        <button type="submit">付款 / Pay</button>
      </form>`,
  );
}

/** An outcome (paid, declined, closed, unknown code) with an optional way back to the merchant. */
export function messagePage(title: string, message: string, back?: string): string {
  const link = back ? html`<p><a class="btn" href="${back}">返回商户 / Back to the merchant</a></p>` : html``;
  return shell(title, html`<div class="card"><p>${message}</p></div>${link}`);
}

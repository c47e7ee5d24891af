/**
 * The development WeChat Pay's pages in Chromium: a payer pays and signs on the cashier and lands back at
 * the merchant on another origin (the page's form-action allows that redirect); a scan is paid by hand.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { browserSkip, screenshot, suiteBrowser } from '../../../test/support/browser.ts';
import { startPayAndSign, startDevWechatpay, type DevWechatpayHarness } from '../../../test/support/dev-wechatpay.ts';

const skip = browserSkip();
let h: DevWechatpayHarness;
let n = 0;
const terms = (amountMinor: number) => ({
  outTradeNo: `B_${process.pid}_${Date.now() % 1e8}_${++n}`,
  amountMinor,
  currency: 'CNY' as const,
  subject: '电影 Film',
  expiresAt: new Date(h.clock.now().getTime() + 15 * 60_000),
});

describe('development WeChat Pay pages in a browser', { skip }, () => {
  const browser = suiteBrowser();
  before(async () => {
    h = await startDevWechatpay();
  });
  after(() => h?.close());

  test('pay and sign on the cashier, then back at the merchant on another origin; both notified', async () => {
    const t = terms(800);
    const agreement = `AB${Date.now()}${n}`;
    const returnUrl = `${h.origin.replace('127.0.0.1', 'localhost')}/back`;
    const s = await startPayAndSign(h.rail, t, returnUrl, agreement);
    const page = await browser.newPage();
    try {
      await page.goto(s.state === 'redirect' ? s.url : 'about:blank');
      assert.match((await page.textContent('body')) ?? '', /开发用微信支付 — 不会有真实资金流动/);
      assert.match((await page.textContent('.amount')) ?? '', /¥8\.00/);
      await screenshot(page, 'dev-wechatpay-cashier');
      await Promise.all([page.waitForURL(returnUrl), page.getByRole('button', { name: /Pay and sign/ }).click()]);
      assert.equal(await page.textContent('body'), 'back at the merchant');
    } finally {
      await page.close();
    }
    await h.event('trade.paid', (e) => e.paid.outTradeNo === t.outTradeNo);
    await h.event('agreement.signed', (e) => e.externalAgreementNo === agreement);
  });

  test('the scan page shows the trade and pays it', async () => {
    const t = terms(300);
    const s = await h.rail.start({ ...t, kind: 'qr' });
    const page = await browser.newPage();
    try {
      await page.goto(
        `${h.origin}/dev/wechatpay/scan?code_url=${encodeURIComponent(s.state === 'qr' ? s.qrText : '')}`,
      );
      await page.getByRole('button', { name: /Pay/ }).click();
      await page.waitForSelector('text=支付成功 / Paid');
    } finally {
      await page.close();
    }
    await h.event('trade.paid', (e) => e.paid.outTradeNo === t.outTradeNo);
  });
});

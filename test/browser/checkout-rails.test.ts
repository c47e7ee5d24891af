import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { browserSkip, suiteBrowser, screenshot } from '../support/browser.ts';
import { eventually } from '../support/eventually.ts';
import { internal } from '../support/rails.ts';
import { suiteSystem } from '../support/system.ts';

const skip = browserSkip();

/**
 * Issue 28 item 8 in Chromium: the checkout page's rail buttons reach the development cashier and come back
 * to a page that says paid; and quick pay ticked on a rail's form (after the possession code) signs the
 * rail's agreement, which binds the phone.
 */
describe('paying by a rail on the checkout page, in Chromium', { skip }, () => {
  const browser = suiteBrowser();
  const sys = suiteSystem({ TVPAY_LIMIT_PAYER_PER_PHONE: '1000', TVPAY_LIMIT_ORDERS_PER_DEVICE: '1000' });

  /** A new TV's order for a phone with no wallet: the link SMS, whose page the phone opens. */
  async function pageFor(digits: string): Promise<{ page: Page; orderId: string }> {
    const tv = await sys.walk.newTv(`cr-${digits.slice(-4)}`);
    const orderId = await sys.walk.order('kids-app', tv);
    const payUrl = (await sys.walk.payer(orderId, `+${digits}`, tv)).payUrl as string;
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await page.goto(`${payUrl}?lang=en`);
    return { page, orderId };
  }

  it('reaches the WeChat Pay cashier from its button and comes back to a page that says paid', async () => {
    const { page } = await pageFor('8613700137021');
    await page.click('button[data-rail="wechatpay"]');
    await page.waitForURL(/\/dev\/wechatpay\/cashier/);
    assert.match((await page.textContent('body')) ?? '', /no real money|不会扣真钱|开发/i);
    await page.click('button[name="action"][value="pay"]');
    await page.waitForSelector('[data-outcome="paid"]', { timeout: 20_000 });
    assert.match((await page.textContent('[data-testid="receipt"]')) ?? '', /WeChat Pay/);
    await page.close();
  });

  it('proves the number, ticks quick pay on the Alipay form, pays and signs at the cashier: the phone is bound', async () => {
    const digits = '8613700137022';
    const { page } = await pageFor(digits);
    assert.equal(await page.locator('input[name="quickPay"]').count(), 0, 'no quick pay before the code');
    const seen = (await sys.walk.inbox(digits)).length;
    await page.click('form[action*="/code"] button[type="submit"]');
    const code = await sys.walk.latestCode(digits, seen);
    await page.fill('input[name="code"]', code);
    await page.click('form[action*="/verify"] button[type="submit"]');
    const alipayForm = page.locator('form:has(button[data-rail="alipay"])');
    await alipayForm.locator('input[name="quickPay"]').check();
    await screenshot(page, 'checkout-rail-quick-pay');
    await alipayForm.locator('button[data-rail="alipay"]').click();
    await page.waitForURL(/\/dev\/alipay\//);
    await page.click('button[name="action"][value="pay_sign"]');
    await page.waitForSelector('[data-outcome="paid"]', { timeout: 20_000 });
    await eventually(async () => {
      const res = await internal(sys, 'POST', '/internal/v1/bindings/lookup', { phone: `+${digits}` });
      assert.equal(res.json().bound, true, 'the signed Alipay agreement binds the phone');
    }, 20_000);
    await page.close();
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { browserSkip, suiteBrowser, TV_SAFE_AREA as SAFE, screenshot } from '../support/browser.ts';
import { suiteSystem } from '../support/system.ts';

const skip = browserSkip();

/**
 * Issue 28 item 5 on the TV: beside the phone's QR code, one per rail that is on, labelled with the app's
 * name, against the real system with both development rails on; only a rail that is down is stood in for.
 */
describe('the rail QR codes on "check your phone", in Chromium', { skip }, () => {
  const browser = suiteBrowser();
  const sys = suiteSystem();
  let tv: Page;
  const scans: string[] = [];

  it('shows a labelled QR code per rail that answers, leaves out one that refuses, and stays usable', async () => {
    tv = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
    // Both development rails are on: `/v1/rails` and Alipay's code come from the real system. WeChat Pay's
    // scan is cut off in the browser, as a rail that is down answers (409 RAIL_UNAVAILABLE).
    await tv.route('**/v1/orders/*/scan', async (route) => {
      const rail = JSON.parse(route.request().postData() ?? '{}').rail as string;
      scans.push(rail);
      if (rail === 'wechatpay')
        return route.fulfill({
          status: 409,
          contentType: 'application/problem+json',
          body: JSON.stringify({ code: 'RAIL_UNAVAILABLE', status: 409, detail: 'down' }),
        });
      return route.continue();
    });
    await tv.goto(`${sys.config.publicUrls.backend}/tv/#device=${sys.deviceToken}`);
    await tv.waitForSelector('#stage[data-screen="catalogue"]');
    for (const k of ['Enter', 'Enter', ...'13800138000'.split(''), 'Enter']) await tv.keyboard.press(k);
    await tv.waitForSelector('[data-channel="sms_confirm"]', { timeout: 15_000 });
    await tv.waitForSelector('[data-testid="qr-alipay"] svg', { timeout: 15_000 });
    await tv.waitForSelector('[data-testid="qr"] svg');
    assert.deepEqual([...scans].sort(), ['alipay', 'wechatpay'], 'each rail that is on was asked for its code');
    assert.equal(await tv.locator('[data-testid="qr-wechatpay"]').count(), 0, 'the refusing rail is left out');
    assert.match((await tv.locator('[data-rail="alipay"]').textContent()) ?? '', /支付宝/);
    await screenshot(tv, 'tv-waiting-rails');
    const report = await tv.evaluate(() => {
      const boxes = Array.from(document.querySelectorAll('[data-focusable], .qr-tile')).map((el) => {
        const r = el.getBoundingClientRect();
        return { text: (el.textContent || '').trim().slice(0, 20), l: r.left, t: r.top, r: r.right, b: r.bottom };
      });
      const small = Array.from(document.querySelectorAll('#stage *'))
        .filter((el) => Array.from(el.childNodes).some((n) => n.nodeType === 3 && (n.textContent || '').trim()))
        .filter((el) => parseFloat(getComputedStyle(el).fontSize) < 28)
        .map((el) => (el.textContent || '').trim().slice(0, 20));
      return { boxes, small };
    });
    for (const b of report.boxes)
      assert.ok(
        b.l >= SAFE.left && b.t >= SAFE.top && b.r <= SAFE.right && b.b <= SAFE.bottom,
        `"${b.text}" at (${b.l}, ${b.t})–(${b.r}, ${b.b}) leaves the safe area`,
      );
    assert.deepEqual(report.small, [], 'text below 28 px');
    // The screen works as before: Back asks whether to cancel, and staying keeps the codes.
    await tv.keyboard.press('Escape');
    await tv.waitForSelector('#stage[data-screen="confirm-leave"]');
    await tv.keyboard.press('Enter');
    await tv.waitForSelector('#stage[data-screen="waiting"]');
    await tv.waitForSelector('[data-testid="qr-alipay"] svg');
    await tv.close();
  });
});

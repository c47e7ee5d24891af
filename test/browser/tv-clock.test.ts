import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { browserSkip, suiteBrowser } from '../support/browser.ts';
import { eventually } from '../support/eventually.ts';
import { suiteSystem } from '../support/system.ts';
import { codeIn } from '../support/codes.ts';

const skip = browserSkip();
const HOUR = 3600_000;

/** The day of an instant in Asia/Shanghai, as the TV must show it. */
const shanghaiDay = (iso: string) =>
  new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' })
    .format(new Date(iso))
    .slice(0, 10);

/**
 * Issue 32 items 3 and 11: the TV shows days in the business time zone, and counts an order's time left
 * by the back-end's clock (here a test clock 40 days ahead, as after a restart with one), not its own.
 */
describe("the TV's days and countdown by the back-end's clock, in Chromium", { skip }, () => {
  const browser = suiteBrowser();
  const sys = suiteSystem();
  let tv: Page;

  before(async () => {
    // 40 days ahead, and to an hour of the UTC day (16:00–23:59) whose Shanghai day is already the next one.
    const hour = new Date().getUTCHours();
    sys.clock.advance(40 * 24 * HOUR + (hour >= 16 ? 0 : (17 - hour) * HOUR));
  });

  it("counts down from the back-end's now and shows the paid-until day in Asia/Shanghai", async () => {
    tv = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
    await tv.goto(`${sys.config.publicUrls.backend}/tv/#device=${sys.deviceToken}`);
    await tv.waitForSelector('#stage[data-screen="catalogue"]');
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await phone.goto(`${sys.config.publicUrls.carrier}/dev/phones/8613800138000`);
    const seen = await phone.locator('.bubble.mt').count();
    for (const k of ['Enter', 'Enter', ...'13800138000'.split(''), 'Enter']) await tv.keyboard.press(k);
    await tv.waitForSelector('[data-channel="sms_confirm"]', { timeout: 15_000 });
    const left = (await tv.locator('[data-testid="time-left"]').textContent()) ?? '';
    const m = /(\d+):(\d\d)/.exec(left);
    assert.ok(m, left);
    const seconds = Number(m[1]) * 60 + Number(m[2]);
    assert.ok(seconds > 0 && seconds <= sys.config.orderTtlSeconds, `time left ${left} is not within the order's TTL`);

    await phone.waitForFunction((n) => document.querySelectorAll('.bubble.mt').length > n, seen, { timeout: 15_000 });
    await phone.fill('input[name="text"]', codeIn((await phone.locator('.bubble.mt').allTextContents()).at(-1)!));
    await phone.click('form.reply button');
    await tv.waitForSelector('#stage[data-screen="success"]', { timeout: 15_000 });
    const until = await eventually(async () => {
      const list = (await sys.tv('GET', '/v1/entitlements')).json() as Array<{ validUntil: string }>;
      assert.equal(list.length, 1);
      return list[0]!.validUntil;
    });
    assert.notEqual(shanghaiDay(until), until.slice(0, 10), 'the test needs a day that differs from UTC');
    const lead = (await tv.locator('.lead').textContent()) ?? '';
    assert.ok(lead.includes(shanghaiDay(until)), `"${lead}" does not say ${shanghaiDay(until)} (Asia/Shanghai)`);
    // "My services" names what paid it.
    await tv.keyboard.press('Enter');
    await tv.waitForSelector('#stage[data-screen="catalogue"]');
    await tv.click('#services');
    await tv.waitForSelector('#stage[data-screen="services"]');
    const line = tv.locator('[data-paid-with="wallet"]');
    assert.equal(await line.count(), 1);
    assert.match((await line.textContent()) ?? '', /钱包/);
    await phone.close();
    await tv.close();
  });
});

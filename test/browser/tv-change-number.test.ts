import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { browserSkip, suiteBrowser, screenshot } from '../support/browser.ts';
import { eventually } from '../support/eventually.ts';
import { accountByPhone } from '../support/flows.ts';
import { suiteSystem } from '../support/system.ts';
import { codeIn } from '../support/codes.ts';

const skip = browserSkip();

/**
 * Issue 32 item 1: on "check your phone" the viewer pressed "change number"; the first phone then replied
 * its code while the TV showed the keypad. The TV must never call that order failed: either the first
 * code is refused and nothing is charged, or the order is paid and the TV shows success.
 */
describe('changing the number while a code is pending, in Chromium', { skip }, () => {
  const browser = suiteBrowser();
  const sys = suiteSystem();
  let tv: Page;

  const screenName = () => tv.locator('#stage').getAttribute('data-screen');
  const onScreen = (name: string) => tv.waitForSelector(`#stage[data-screen="${name}"]`, { timeout: 15_000 });
  const balance = async () => (await accountByPhone(sys, '+8613800138000')).wallet.balanceMinor;
  const held = async () => (await accountByPhone(sys, '+8613800138000')).wallet.heldMinor;

  async function openPhone(digits: string): Promise<Page> {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await phone.goto(`${sys.config.publicUrls.carrier}/dev/phones/${digits}`);
    return phone;
  }
  const bubbles = (phone: Page) => phone.locator('.bubble.mt').count();
  const lastBubble = async (phone: Page) => (await phone.locator('.bubble.mt').allTextContents()).at(-1) ?? '';

  /** The demo TV's app, at its catalogue, in a page of its own. */
  async function openTv() {
    tv = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
    await tv.goto(`${sys.config.publicUrls.backend}/tv/#device=${sys.deviceToken}`);
    await onScreen('catalogue');
  }

  /** Presses these keys on the TV, which end on a bound phone's number: the code the phone is then sent. */
  async function codeAfter(phone: Page, keys: readonly string[]): Promise<string> {
    const seen = await bubbles(phone);
    for (const k of keys) await tv.keyboard.press(k);
    await onScreen('waiting');
    await tv.waitForSelector('[data-channel="sms_confirm"]');
    await phone.waitForFunction((n) => document.querySelectorAll('.bubble.mt').length > n, seen, { timeout: 15_000 });
    return codeIn(await lastBubble(phone));
  }

  it('refuses the first code after "change number", charges nothing, and never shows the order as failed', async () => {
    await openTv();
    const before = await balance();
    const phone = await openPhone('8613800138000');
    const oldCode = await codeAfter(phone, ['Enter', 'Enter', ...'13800138000'.split(''), 'Enter']);
    assert.equal(await held(), 990, 'the first attempt holds the price');

    await tv.click('#change');
    await onScreen('phone');
    // "Change number" ends the pending attempt at once: its hold is released before a new number is typed.
    await eventually(async () => assert.equal(await held(), 0, 'the first attempt still holds money'), 15_000, 100);

    const beforeReply = await bubbles(phone);
    await phone.fill('input[name="text"]', oldCode);
    await phone.click('form.reply button');
    // The reply is answered (paid, or "nothing to pay"): only then is its outcome known.
    await phone.waitForFunction((n) => document.querySelectorAll('.bubble.mt').length > n, beforeReply, {
      timeout: 15_000,
    });
    await screenshot(tv, 'tv-change-number-keypad');
    assert.equal(await balance(), before, 'the first code, replied after "change number", charged the wallet');
    assert.equal(await screenName(), 'phone', 'the keypad stays while nothing was paid');

    const newCode = await codeAfter(phone, [...'13800138000'.split(''), 'Enter']);
    assert.notEqual(newCode, oldCode);
    await phone.fill('input[name="text"]', newCode);
    await phone.click('form.reply button');
    await onScreen('success');
    assert.equal(before - (await balance()), 990, 'the wallet was debited once');
    await phone.close();
    await tv.close();
  });

  it('turns to success when the first phone pays while the keypad is shown (the change-number call was lost)', async () => {
    await openTv();
    // The change-number call is lost on the way (a network drop): the first code stays valid and pays.
    await tv.route('**/payer/cancel', (route) => route.abort());
    const phone = await openPhone('8613800138000');
    const oldCode = await codeAfter(phone, ['Enter', 'Enter', ...'13800138000'.split(''), 'Enter']);
    await tv.click('#change');
    await onScreen('phone');
    for (const k of '1390013'.split('')) await tv.keyboard.press(k);
    await phone.fill('input[name="text"]', oldCode);
    await phone.click('form.reply button');
    // The TV watches the order behind the keypad and turns to success by itself.
    await onScreen('success');
    await phone.close();
    await tv.close();
  });
});

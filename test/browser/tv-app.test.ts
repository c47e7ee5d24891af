import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { browserSkip, suiteBrowser, TV_SAFE_AREA as SAFE, screenshot } from '../support/browser.ts';
import { eventually } from '../support/eventually.ts';
import { accountByPhone } from '../support/flows.ts';
import { suiteSystem } from '../support/system.ts';
import { codeIn } from '../support/codes.ts';

const skip = browserSkip();

describe('the TV app and the phone pages in Chromium', { skip }, () => {
  const browser = suiteBrowser();
  const sys = suiteSystem();
  let tv: Page;
  const shots = new Set<string>();

  const tvUrl = () => `${sys.config.publicUrls.backend}/tv/#device=${sys.deviceToken}`;
  const screenName = (page: Page) => page.locator('#stage').getAttribute('data-screen');
  const press = async (...keys: string[]) => {
    for (const k of keys) await tv.keyboard.press(k);
  };
  const onScreen = async (name: string) => {
    await tv.waitForSelector(`#stage[data-screen="${name}"]`, { timeout: 15_000 });
    await checkTenFoot(tv, name);
    if (!shots.has(name)) {
      shots.add(name);
      await screenshot(tv, `tv-${name}`);
    }
  };
  const focused = () =>
    tv.evaluate(() => {
      const el = document.querySelector('.focused');
      return el
        ? {
            key: el.getAttribute('data-key'),
            id: el.id,
            product: el.getAttribute('data-product'),
            inKeypad: !!el.closest('.keypad'),
          }
        : null;
    });

  /** Every focusable element inside the safe area, body text ≥ 28 px, a focus ring ≥ 4 px. */
  async function checkTenFoot(page: Page, name: string) {
    const report = await page.evaluate(() => {
      const rects = Array.from(document.querySelectorAll('[data-focusable]')).map((el) => {
        const r = el.getBoundingClientRect();
        return {
          text: (el.textContent || '').trim().slice(0, 20),
          left: r.left,
          top: r.top,
          right: r.right,
          bottom: r.bottom,
        };
      });
      const small = Array.from(document.querySelectorAll('#stage *'))
        .filter((el) => Array.from(el.childNodes).some((n) => n.nodeType === 3 && (n.textContent || '').trim()))
        .map((el) => ({
          text: (el.textContent || '').trim().slice(0, 20),
          size: parseFloat(getComputedStyle(el).fontSize),
        }))
        .filter((x) => x.size < 28);
      const ring = document.querySelector('.focused')
        ? getComputedStyle(document.querySelector('.focused')!).boxShadow
        : '';
      return { rects, small, ring };
    });
    for (const r of report.rects) {
      assert.ok(
        r.left >= SAFE.left && r.top >= SAFE.top && r.right <= SAFE.right && r.bottom <= SAFE.bottom,
        `${name}: "${r.text}" at (${r.left}, ${r.top})–(${r.right}, ${r.bottom}) leaves the safe area`,
      );
    }
    assert.deepEqual(report.small, [], `${name}: text below 28 px`);
    if (report.rects.length) assert.match(report.ring, /(\d+)px/, `${name}: a focus ring`);
    const ringPx = Number(/0px 0px 0px (\d+)px/.exec(report.ring)?.[1] ?? 0);
    if (report.rects.length) assert.ok(ringPx >= 4, `${name}: focus ring of ${ringPx}px`);
  }

  /** Moves focus by keys to a package's card, wherever it was on the catalogue (the catalogue remembers the card last left). */
  async function toCard(productId: string) {
    if (!(await focused())?.product) await press('ArrowDown');
    for (let i = 0; i < 4; i++) await press('ArrowLeft');
    for (let i = 0; i < 4 && (await focused())?.product !== productId; i++) await press('ArrowRight');
    assert.equal((await focused())?.product, productId);
  }

  /** Presses a key and waits for the screen it leads to. */
  async function pressTo(key: string, screen: string) {
    await press(key);
    await onScreen(screen);
  }

  async function typePhone(digits: string) {
    await onScreen('phone');
    for (const d of digits) await tv.keyboard.press(d);
  }

  async function openPhone(digits: string): Promise<Page> {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await phone.goto(`${sys.config.publicUrls.carrier}/dev/phones/${digits}`);
    return phone;
  }

  async function lastSms(phone: Page, containing: RegExp): Promise<string> {
    return eventually(
      async () => {
        await phone.reload();
        const texts = await phone.locator('.bubble.mt').allTextContents();
        const last = texts.at(-1) ?? '';
        assert.match(last, containing);
        return last;
      },
      15_000,
      250,
    );
  }

  it('buys a package with a bound phone by keys alone; the code is replied on the phone and the TV turns to success live', async () => {
    tv = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
    await tv.goto(tvUrl());
    await onScreen('catalogue');
    await tv.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
    assert.equal((await focused())?.product, 'kids-app');
    for (let i = 0; i < 4 && (await focused())?.product !== 'vip-year'; i++) await press('ArrowRight');
    assert.equal((await focused())?.product, 'vip-year');
    await pressTo('Enter', 'detail');
    await press('Enter');
    await typePhone('13800138000');
    assert.equal(await tv.locator('[data-testid="phone-display"]').textContent(), '138 0013 8000');
    assert.equal((await focused())?.key, 'ok', 'a complete number puts focus on OK');
    await pressTo('Enter', 'waiting');
    await tv.waitForSelector('[data-channel="sms_confirm"]');
    await tv.waitForSelector('[data-testid="qr"] svg');
    assert.match((await tv.locator('[data-testid="instruction"]').textContent()) ?? '', /138\*\*\*\*8000/);

    const phone = await openPhone('8613800138000');
    const sms = await lastSms(phone, /回复\d{6}/);
    await screenshot(phone, 'phone-sms-app-code');
    const code = codeIn(sms);
    await phone.fill('input[name="text"]', code);
    await phone.click('form.reply button');
    await onScreen('success');
    assert.match((await tv.locator('.lead').textContent()) ?? '', /会员包年.*20\d\d-\d\d-\d\d/);
    assert.equal(await tv.evaluate(() => (window as unknown as { marker: number }).marker), 42, 'no reload happened');
    await phone.close();
    await pressTo('Enter', 'catalogue');
  });

  it('pays with an unbound phone: the SMS link opens the checkout page on the phone, and the TV turns to success', async () => {
    await toCard('vip-month');
    await pressTo('Enter', 'detail');
    await press('Enter');
    await typePhone('13600136000');
    await pressTo('Enter', 'waiting');
    await tv.waitForSelector('[data-channel="wap_link"]');

    const phone = await openPhone('8613600136000');
    await lastSms(phone, /\/pay\//);
    await screenshot(phone, 'phone-sms-app-link');
    await phone.locator('.bubble.mt a').last().click();
    await phone.waitForSelector('[data-testid="amount"]');
    assert.match((await phone.locator('[data-testid="amount"]').textContent()) ?? '', /¥25\.00/);
    await screenshot(phone, 'checkout-start');
    await phone.click('button[type="submit"]');
    await phone.waitForSelector('input[name="code"]');
    await screenshot(phone, 'checkout-code');
    const resend = phone.locator('button[data-countdown]');
    assert.equal(await resend.isDisabled(), true, 'the resend button counts down before it can be used');
    assert.match(
      (await resend.textContent()) ?? '',
      /^\d+ s until you can ask again$/,
      'in the language of the phone (English here)',
    );
    const inbox = await openPhone('8613600136000');
    const codeSms = await lastSms(inbox, /验证码\d{6}/);
    const right = /(\d{6})/.exec(codeSms)![1]!;
    await phone.fill('input[name="code"]', right === '000000' ? '111111' : '000000');
    await phone.click('form[action*="/verify"] button');
    await phone.waitForSelector('[data-error="CODE_INCORRECT"]');
    assert.equal(
      await phone.locator('[role="alert"]').textContent(),
      'That code is not right; 4 tries left.',
      'the error speaks the page language',
    );
    const smsBefore = await inbox.locator('.bubble.mt').count();
    await phone.reload();
    await phone.waitForSelector('input[name="code"]');
    assert.equal(
      await phone.locator('[data-error]').count(),
      0,
      'a reload repeats nothing (POST-redirect-GET) and the notice was shown once',
    );
    assert.equal(await inbox.locator('.bubble.mt').count(), smsBefore, 'and sent no code again');
    await inbox.close();
    await phone.fill('input[name="code"]', right);
    await phone.click('form[action*="/verify"] button');
    await phone.waitForSelector('input[name="source"]');
    assert.equal(
      await phone.locator('form[action*="/pay?"] fieldset.consent input[name="quickPay"]').isChecked(),
      false,
      'quick pay is a consent of its own, unticked',
    );
    assert.equal(
      await phone.locator('form[action*="/pay?"] fieldset.consent a[href^="/pay/agreement"]').count(),
      1,
      'with the agreement a tap away',
    );
    await screenshot(phone, 'checkout-choose');
    await phone.click('form[action*="/pay?"] button[type="submit"]');
    await phone.waitForSelector('.ok');
    assert.match(
      (await phone.locator('[data-testid="receipt"]').textContent()) ?? '',
      /Order number\s*\S{8}\s*Paid at\s*\S.+Paid with\s*Wallet/s,
      'the success names the order number, the time and the method',
    );
    await screenshot(phone, 'checkout-paid');
    await onScreen('success');
    assert.equal(
      await tv.locator('[data-testid="paid"]').textContent(),
      '已支付 ¥25.00（钱包余额）',
      'the success says the amount and what paid it',
    );
    await phone.close();
    await pressTo('Enter', 'catalogue');
  });

  it('shows insufficient funds clearly and lets the viewer retry with another phone', async () => {
    await toCard('vip-month');
    await pressTo('Enter', 'detail');
    // The membership bought in the first test is on: buying the monthly one says it extends it, and to when.
    await tv.waitForSelector('[data-testid="extends"]');
    assert.match(
      (await tv.locator('[data-testid="extends"]').textContent()) ?? '',
      /您已开通至 \d{4}-\d\d-\d\d，购买后延长至 \d{4}-\d\d-\d\d/,
    );
    assert.equal((await focused())?.id, 'buy', 'the focus stays on Buy when the line appears');
    await press('Enter');
    await typePhone('13700137000');
    await pressTo('Enter', 'failure');
    assert.equal(await tv.locator('[data-reason]').getAttribute('data-reason'), 'INSUFFICIENT_FUNDS');
    assert.equal((await focused())?.id, 'retry');
    await press('Enter');
    await typePhone('13800138000');
    const phone = await openPhone('8613800138000');
    const seen = await phone.locator('.bubble.mt').count();
    await pressTo('Enter', 'waiting');
    // The SMS app updates by itself when the SMS arrives (no reload by the test).
    await phone.waitForFunction((n) => document.querySelectorAll('.bubble.mt').length > n, seen, { timeout: 15_000 });
    const sms = (await phone.locator('.bubble.mt').allTextContents()).at(-1)!;
    assert.match(sms, /25\.00元/);
    await phone.fill('input[name="text"]', codeIn(sms));
    await phone.click('form.reply button');
    await onScreen('success');
    await phone.close();
    await pressTo('Escape', 'catalogue');
  });

  it('keeps focus inside the keypad, deletes digits with Back and leaves the keypad only by OK or Back', async () => {
    await pressTo('Enter', 'detail');
    await pressTo('Enter', 'phone');
    for (const k of [
      'ArrowUp',
      'ArrowUp',
      'ArrowLeft',
      'ArrowLeft',
      'ArrowRight',
      'ArrowRight',
      'ArrowRight',
      'ArrowDown',
      'ArrowDown',
      'ArrowDown',
      'ArrowDown',
      'ArrowDown',
      'ArrowLeft',
      'ArrowUp',
    ]) {
      await press(k);
      const f = await focused();
      assert.ok(f?.inKeypad, `focus left the keypad after ${k}`);
    }
    await press('Enter');
    const typed = ((await tv.locator('[data-testid="phone-display"]').textContent()) ?? '').replace(/\s|_/g, '');
    assert.equal(typed.length, 1, 'OK on a focused key types that digit');
    await press('3', '8');
    const before = (await tv.locator('[data-testid="phone-display"]').textContent()) ?? '';
    assert.equal(before.replace(/\s/g, ''), `${typed}38`);
    await press('Backspace');
    const afterOne = (await tv.locator('[data-testid="phone-display"]').textContent()) ?? '';
    assert.equal(afterOne.replace(/\s/g, ''), before.replace(/\s/g, '').slice(0, -1), 'Back deletes one digit');
    assert.ok((await focused())?.inKeypad, '(await focused())?.inKeypad');
    for (let i = 0; i < 12; i++) await press('Escape');
    assert.ok(
      ['detail', 'catalogue'].includes((await screenName(tv)) ?? ''),
      'Back on an empty number leaves the keypad',
    );
    await pressTo('Escape', 'catalogue');
  });

  it('lists what the account has active, and switches language', async () => {
    await press('ArrowUp');
    assert.equal((await focused())?.id, 'services');
    await pressTo('Enter', 'services');
    const rows = await tv.locator('.list li').allTextContents();
    assert.ok(
      rows.some((r) => /会员包年|会员包月/.test(r)),
      rows.join(' | '),
    );
    await pressTo('Escape', 'catalogue');
    await press('ArrowUp', 'ArrowRight');
    assert.equal((await focused())?.id, 'lang');
    await press('Enter');
    assert.match((await tv.locator('h1').textContent()) ?? '', /Choose a package/);
    const titles = await tv.locator('.card-title').allTextContents();
    assert.ok(
      titles.includes('VIP, one month') && titles.every((x) => !/[\u4e00-\u9fff]/.test(x)),
      `English titles: ${titles.join(' | ')}`,
    );
    await screenshot(tv, 'tv-catalogue-en');
    await tv.evaluate(() => (document.querySelector('[data-product="vip-year"]') as HTMLElement).click());
    await onScreen('detail');
    assert.match(
      (await tv.locator('[data-testid="about"]').textContent()) ?? '',
      /whole year/,
      'the package says what it gives, in English',
    );
    assert.doesNotMatch(
      (await tv.locator('#stage').textContent()) ?? '',
      /Turns on|vip\b/,
      'no service code is shown to the viewer',
    );
    await pressTo('Escape', 'catalogue');
    await press('ArrowUp');
    if ((await focused())?.id === 'services') await press('ArrowRight');
    assert.equal((await focused())?.id, 'lang');
    await press('Enter');
    assert.match((await tv.locator('h1').textContent()) ?? '', /选择套餐/);
  });

  it('returns focus to the package the viewer left, keeps Left and Right in their row, and centres the stage at 4:3', async () => {
    // A new start of the app (the device is stored; only the fragment would differ, which does not reload).
    await tv.reload();
    await onScreen('catalogue');
    assert.equal((await focused())?.product, 'kids-app', 'a new start focuses the first package');
    await press('ArrowRight');
    const second = (await focused())?.product;
    await pressTo('Enter', 'detail');
    await pressTo('Escape', 'catalogue');
    assert.equal((await focused())?.product, second, 'back on the catalogue, focus is on the package just left');
    for (let i = 0; i < 6; i++) await press('ArrowRight');
    const last = (await focused())?.product;
    assert.ok(last, 'Right along the row stays on the cards');
    await press('ArrowRight');
    assert.equal((await focused())?.product, last, 'Right on the last card goes nowhere (not to the language switch)');
    await press('ArrowUp');
    if ((await focused())?.id === 'lang') await press('ArrowLeft');
    assert.equal((await focused())?.id, 'services');
    await press('ArrowLeft');
    assert.equal((await focused())?.id, 'services', 'Left from my services does not drop into the cards');
    await pressTo('Enter', 'services');
    await pressTo('Escape', 'catalogue');
    assert.equal((await focused())?.id, 'services', 'back from my services, focus is where it was');
    await tv.setViewportSize({ width: 1024, height: 768 });
    await tv.waitForFunction(() => document.getElementById('stage')!.getBoundingClientRect().width < 1100);
    const box = await tv.evaluate(() => {
      const r = document.getElementById('stage')!.getBoundingClientRect();
      return { left: r.left, top: r.top, right: innerWidth - r.right, bottom: innerHeight - r.bottom };
    });
    await tv.setViewportSize({ width: 1920, height: 1080 });
    await tv.waitForFunction(() => document.getElementById('stage')!.getBoundingClientRect().width > 1900);
    assert.ok(Math.abs(box.top - box.bottom) <= 1 && box.top > 50, `centred at 4:3: ${JSON.stringify(box)}`);
    assert.ok(
      Math.abs(box.left) <= 1 && Math.abs(box.right) <= 1,
      'Math.abs(box.left) <= 1 && Math.abs(box.right) <= 1',
    );
  });

  it('shows a purchase refunded in full as refunded in my services', async () => {
    const orderId = (await sys.tv('POST', '/v1/orders', { productId: 'kids-app' })).json().orderId;
    const seen = (await sys.carrier.carrier.inbox('8613800138000')).length;
    const submitted = await sys.tv('POST', `/v1/orders/${orderId}/payer`, { phone: '13800138000' });
    assert.equal(submitted.statusCode, 202, submitted.body);
    const code = await eventually(async () => {
      const inbox = await sys.carrier.carrier.inbox('8613800138000');
      assert.ok(inbox.length > seen, 'inbox.length > seen');
      return codeIn(inbox[inbox.length - 1]!.text);
    });
    await sys.carrier.carrier.reply('8613800138000', code);
    await eventually(async () =>
      assert.equal((await sys.tv('GET', `/v1/orders/${orderId}`)).json().status, 'fulfilled'),
    );
    assert.equal(
      (await sys.backendAdmin('POST', `/admin/v1/orders/${orderId}/refunds`, { reason: 'browser test' })).statusCode,
      201,
    );
    await eventually(async () =>
      assert.equal((await sys.tv('GET', `/v1/orders/${orderId}`)).json().status, 'refunded'),
    );
    await tv.goto(tvUrl());
    await onScreen('catalogue');
    await press('ArrowUp');
    if ((await focused())?.id === 'lang') await press('ArrowLeft');
    assert.equal((await focused())?.id, 'services');
    await pressTo('Enter', 'services');
    const refunded = tv.locator('.list li[data-refunded="yes"]');
    assert.equal(await refunded.count(), 1);
    assert.match((await refunded.textContent()) ?? '', /少儿动画应用.*已退款/);
    await screenshot(tv, 'tv-services-refunded');
    await pressTo('Escape', 'catalogue');
  });

  it('sets every price of a row of packages level, whatever the lines of their titles', async (t) => {
    const product = {
      title: '全家影视会员 · 含少儿频道、体育直播与独家剧场',
      amountMinor: 1990,
      currency: 'CNY',
      service: 'family',
      durationDays: 31,
    };
    assert.equal((await sys.backendAdmin('PUT', '/admin/v1/products/long-title', product)).statusCode, 200);
    t.after(async () => void (await sys.backendAdmin('DELETE', '/admin/v1/products/long-title')));
    await tv.goto(tvUrl());
    await onScreen('catalogue');
    const rows = await tv.locator('.card').evaluateAll((cards) =>
      cards.map((c) => ({
        row: Math.round(c.getBoundingClientRect().top),
        price: Math.round(c.querySelector('.price')!.getBoundingClientRect().top),
        titleHeight: c.querySelector('.card-title')!.getBoundingClientRect().height,
      })),
    );
    assert.ok(rows.length >= 2, 'the catalogue shows packages');
    assert.ok(
      Math.max(...rows.map((r) => r.titleHeight)) > Math.min(...rows.map((r) => r.titleHeight)),
      'a title wraps',
    );
    for (const r of rows) {
      const sameRow = rows.filter((o) => o.row === r.row);
      assert.deepEqual(new Set(sameRow.map((o) => o.price)).size, 1, `prices level in the row at ${r.row}`);
    }
  });

  it('buys a renewing package by keys, sees it in my services with its next renewal, and cancels it there after a confirmation', async () => {
    await tv.goto(tvUrl());
    await onScreen('catalogue');
    await toCard('uhd-monthly');
    await pressTo('Enter', 'detail');
    assert.match((await tv.locator('[data-testid="renews"]').textContent()) ?? '', /自动续费.*每30天.*30\.00/);
    await press('Enter');
    await typePhone('13800138000');
    const seen = (await sys.carrier.carrier.inbox('8613800138000')).length;
    await pressTo('Enter', 'waiting');
    const sms = await eventually(async () => {
      const inbox = await sys.carrier.carrier.inbox('8613800138000');
      assert.ok(inbox.length > seen, 'inbox.length > seen');
      return inbox[inbox.length - 1]!.text;
    });
    assert.match(sms, /自动续费/);
    await sys.carrier.carrier.reply('8613800138000', codeIn(sms));
    await onScreen('success');
    await pressTo('Enter', 'catalogue');
    await press('ArrowUp');
    if ((await focused())?.id === 'lang') await press('ArrowLeft');
    await pressTo('Enter', 'services');
    assert.deepEqual(
      await tv.locator('h2.subhead').allTextContents(),
      ['已开通', '自动续费'],
      'what is on and its renewals, each under its heading',
    );
    const row = tv.locator('[data-testid="subscriptions"] li[data-status="active"]');
    assert.equal(await row.count(), 1);
    assert.match((await row.textContent()) ?? '', /4K会员连续包月.*自动续费.*30\.00/);
    await screenshot(tv, 'tv-services-subscription');
    const path: string[] = [];
    for (const k of ['ArrowUp', 'ArrowUp', 'ArrowRight', 'ArrowDown']) {
      if (((await focused())?.id ?? '').startsWith('cancel-')) break;
      await press(k);
      path.push(`${k}:${(await focused())?.id}`);
    }
    assert.ok(
      ((await focused())?.id ?? '').startsWith('cancel-'),
      `the cancel button is reachable by keys (${path.join(' ')})`,
    );
    await pressTo('Enter', 'confirm-cancel');
    assert.equal((await focused())?.id, 'keep', 'keeping it is the default');
    await press('ArrowLeft');
    assert.equal((await focused())?.id, 'confirm-cancel');
    await pressTo('Enter', 'services');
    await tv.waitForSelector('[data-testid="subscriptions"] li[data-status="cancelled"]');
    const [sub] = (await sys.tv('GET', '/v1/subscriptions'))
      .json()
      .filter((x: { productId: string }) => x.productId === 'uhd-monthly');
    assert.equal(sub.status, 'cancelled');
    await pressTo('Escape', 'catalogue');
  });

  it('asks before Back cancels a payment in progress, and keeps waiting by default', async () => {
    await tv.goto(tvUrl());
    await onScreen('catalogue');
    assert.match(
      (await tv.locator('footer.hint').textContent()) ?? '',
      /OK/,
      'the catalogue hint does not promise a previous step',
    );
    await toCard('kids-app');
    await pressTo('Enter', 'detail');
    await press('Enter');
    await typePhone('13800138000');
    await pressTo('Enter', 'waiting');
    await pressTo('Escape', 'confirm-leave');
    assert.equal((await focused())?.id, 'stay', 'keeping on is the default');
    await pressTo('Enter', 'waiting');
    await pressTo('Escape', 'confirm-leave');
    await press('ArrowRight');
    assert.equal((await focused())?.id, 'leave');
    await pressTo('Enter', 'failure');
    assert.equal(await tv.locator('[data-reason]').getAttribute('data-reason'), 'cancelled');
    await pressTo('Escape', 'catalogue');
  });

  it('follows the order by polling on a browser without EventSource', async () => {
    const old = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
    await old.addInitScript(() => {
      delete (window as unknown as { EventSource?: unknown }).EventSource;
    });
    await old.goto(tvUrl());
    await old.waitForSelector('#stage[data-screen="catalogue"]');
    for (const k of ['Enter', 'Enter', ...'13800138000'.split(''), 'Enter']) await old.keyboard.press(k);
    await old.waitForSelector('[data-channel="sms_confirm"]');
    assert.equal(await old.locator('[data-testid="connection"]').isVisible(), false);
    // The back-end cannot be reached for a while: the TV says so rather than count down as if all were well.
    await old.route('**/v1/orders/*', (route) => route.abort());
    await old.waitForSelector('[data-testid="connection"]', { state: 'visible', timeout: 10_000 });
    assert.match((await old.locator('[data-testid="connection"]').textContent()) ?? '', /正在重新连接/);
    await old.unroute('**/v1/orders/*');
    await old.waitForSelector('[data-testid="connection"]', { state: 'hidden', timeout: 10_000 });
    const phone = await openPhone('8613800138000');
    const sms = await lastSms(phone, /9\.90元/);
    await phone.fill('input[name="text"]', codeIn(sms));
    await phone.click('form.reply button');
    await old.waitForSelector('#stage[data-screen="success"]', { timeout: 15_000 });
    await phone.close();
    await old.close();
  });

  it('buys once when OK is pressed three times fast on a slow network: one payable order, one debit, and the TV reaches success', async () => {
    const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
    await page.route('**/v1/orders**', async (route) => {
      if (route.request().method() === 'POST') await new Promise((r) => setTimeout(r, 700));
      await route.continue();
    });
    await page.goto(tvUrl());
    await page.waitForSelector('#stage[data-screen="catalogue"]');
    const wallet = async () => (await accountByPhone(sys, '+8613800138000')).wallet.balanceMinor;
    const before = await wallet();
    const db = sys.backend.db;
    const since = new Date().toISOString();
    for (const k of ['Enter', 'Enter', ...'13800138000'.split('')]) await page.keyboard.press(k);
    await page.keyboard.press('Enter');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Enter');
    assert.equal(await page.locator('.keypad').getAttribute('aria-busy'), 'true', 'the keypad shows that it is busy');
    await page.waitForSelector('[data-channel="sms_confirm"]', { timeout: 15_000 });
    const made = await db.selectFrom('orders').selectAll().where('created_at', '>=', since).execute();
    assert.equal(made.length, 1, `${made.length} orders were made`);
    const phone = await openPhone('8613800138000');
    const sms = await lastSms(phone, /9\.90元/);
    await phone.fill('input[name="text"]', codeIn(sms));
    await phone.click('form.reply button');
    await page.waitForSelector('#stage[data-screen="success"]', { timeout: 15_000 });
    assert.equal(before - (await wallet()), 990, 'the wallet was debited once');
    await phone.close();
    await page.close();
  });

  it('keeps its device token when an address carries another one', async () => {
    const other = await sys.backendAdmin('POST', '/admin/v1/devices', { name: 'intruder', accountId: 'acct-intruder' });
    const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
    await page.goto(tvUrl());
    await page.waitForSelector('#stage[data-screen="catalogue"]');
    assert.equal(await page.evaluate(() => location.hash), '', 'the token leaves the address');
    // Same page, another fragment: a hash change, so load it afresh as a TV would start from that link.
    await page.goto(`${sys.config.publicUrls.backend}/tv/#device=${other.json().token}`);
    await page.reload();
    await page.waitForSelector('#stage[data-screen="catalogue"]');
    assert.equal(await page.evaluate(() => localStorage.getItem('tvpay.device')), sys.deviceToken);
    assert.equal(await page.evaluate(() => location.hash), '');
    await page.close();
  });

  it('lays the phone checkout page out for a 360×640 phone', async () => {
    const phone = await browser.newPage({ viewport: { width: 360, height: 640 }, locale: 'zh-CN' });
    const orderId = (await sys.tv('POST', '/v1/orders', { productId: 'vip-year' })).json().orderId;
    const order = (await sys.tv('POST', `/v1/orders/${orderId}/payer`, { phone: '13600136000' })).json();
    await phone.goto(order.payUrl);
    const box = await phone.locator('[data-testid="amount"]').boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= 360, 'the amount fits the screen');
    assert.equal(
      await phone.evaluate(() => document.documentElement.scrollWidth <= 360),
      true,
      'no sideways scrolling',
    );
    await screenshot(phone, 'checkout-360x640');
    await phone.close();
    await sys.tv('POST', `/v1/orders/${orderId}/cancel`);
  });
});

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { businessDate } from '../../src/lib/business-day.ts';
import { browserSkip, suiteBrowser, screenshot } from '../support/browser.ts';
import { eventually } from '../support/eventually.ts';
import { suiteSystem } from '../support/system.ts';
import { scan } from '../support/rails.ts';

const skip = browserSkip();

/** Ids of things (`ord_…`, `pay_…`): names people copy, not API words. */
const IDS = /\b(?:ord|pay|acc|dev|whk|whd|rfd|sms|evt|sub|rec|hold|ck|msg)_[A-Za-z0-9_-]+/g;
/** What no page may show a person: API names, codes, fen, UTC, the API's English. */
const API_WORDS = [
  /\b[a-z]+_[a-z_]+\b/, // awaiting_payment, sms_confirm, wap_link, sms_code, balance_mismatch
  /\b[A-Z]{2,}_[A-Z_]+\b/, // INSUFFICIENT_FUNDS, FULFILMENT_FAILED
  /minor units/i,
  /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/, // an RFC 3339 (UTC) time
  /¥-/, // a sign after the currency
  /¥[\d,]+(?!\.\d\d)(?![\d,])/, // yuan without two decimals
  /\b990\b/, // the order's price in fen
  /\b(?:payment|refund) of \d+\b/, // "refund of 5000 asked"
];
/** The API's English words for states and kinds, which a Chinese page translates. */
const API_ENGLISH =
  /\b(?:awaiting|pending|captured|succeeded|refunded|fulfilled|paid|wallet|card|capture|hold|release|credit|delivered|queued|sent|failed|expired|active|lapsed|created|cancelled|receipt)\b/;

/** A console page's text as a person reads it; in English, less the Timeline (which names API statuses by contract). */
async function pageText(p: Page, lang: string): Promise<string> {
  let text = await p.locator('main').innerText();
  if (lang === 'en-US' && (await p.getByRole('region', { name: 'Timeline' }).count()))
    text = text.replace(await p.getByRole('region', { name: 'Timeline' }).innerText(), '');
  return text.replace(IDS, '');
}

function rawWords(text: string, lang: string): string[] {
  const patterns = lang === 'zh-CN' ? [...API_WORDS, API_ENGLISH] : API_WORDS;
  return patterns.flatMap((re) => {
    const m = re.exec(text);
    return m ? [`"${m[0]}" in …${text.slice(Math.max(0, m.index - 40), m.index + 40).replace(/\s+/g, ' ')}…`] : [];
  });
}

describe("the operators' consoles in Chromium", { skip }, () => {
  const browser = suiteBrowser();
  const sys = suiteSystem();
  let context: BrowserContext;
  let page: Page;
  const scriptErrors: string[] = [];
  let orderId: string;
  let failedId: string;
  let railId: string;

  before(async () => {
    context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.on('pageerror', (err) => scriptErrors.push(err.message));
    // A refused sign-in answers 401 on purpose, which Chromium logs as a failed load; anything else is a script's error.
    page.on('console', (m) => {
      if (m.type() === 'error' && !/^Failed to load resource: the server responded with a status of 401/.test(m.text()))
        scriptErrors.push(m.text());
    });
    // A bound phone's purchase, paid and turned on, to find and refund in the console.
    orderId = await sys.walk.order('kids-app');
    const seen = (await sys.walk.inbox('8613800138000')).length;
    await sys.walk.payer(orderId, '13800138000');
    await sys.walk.reply('8613800138000', await sys.walk.latestCode('8613800138000', seen));
    await sys.walk.until(orderId, 'fulfilled');
    // And one that failed (bound, but neither the wallet nor the card covers it), for failure reasons in words.
    failedId = await sys.walk.order('kids-app');
    await sys.walk.payer(failedId, '13700137000');
    await sys.walk.until(failedId, 'failed');
    // And one paid by scanning the development Alipay's QR code (a phone with no account, sent the link).
    railId = await sys.walk.order('kids-app');
    await sys.walk.payer(railId, '13600136000');
    const qr = await eventually(async () => {
      const res = await scan(sys, railId, 'alipay');
      assert.equal(res.statusCode, 200, res.body);
      return res.json().qrText as string;
    });
    const paid = await sys.carrier.app.inject({
      method: 'POST',
      url: '/dev/alipay/scan',
      payload: new URLSearchParams({ qr }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(paid.statusCode, 200, paid.body);
    await sys.walk.until(railId, 'fulfilled');
  });

  const signIn = async (base: string) => {
    await page.goto(`${base}/console/`);
    // Maybe signed in already (each console has its own session cookie).
    if (!/\/console\/sign-in$/.test(page.url())) return;
    await page.getByLabel('Admin token').fill(sys.secrets.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation').waitFor();
  };

  it('signs in with the admin token into an HttpOnly, SameSite=Strict session that expires, and never puts the token in a URL', async () => {
    await page.goto(`${sys.config.publicUrls.backend}/console/orders`);
    assert.match(page.url(), /\/console\/sign-in$/, 'a page without a session goes to the sign-in');
    await page.getByLabel('Admin token').fill('not-the-admin-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    await signIn(sys.config.publicUrls.backend);
    const [cookie] = (await context.cookies()).filter((c) => c.name === 'tvpay_backend_console');
    assert.ok(cookie, 'a session cookie');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    assert.ok(
      cookie.expires > Date.now() / 1000 && cookie.expires < Date.now() / 1000 + 24 * 3600,
      'it expires within a day',
    );
    assert.ok(
      !cookie.value.includes(sys.secrets.adminToken) && !page.url().includes(sys.secrets.adminToken),
      '!cookie.value.includes(sys.secrets.adminToken) && !page.url().includes(sys.secrets.adminToken)',
    );
    for (const name of [
      'Overview',
      'Orders',
      'Subscriptions',
      'Products',
      'Devices',
      'SMS',
      'Webhooks',
      'Reconciliation',
    ]) {
      assert.equal(
        await page.getByRole('navigation').getByRole('link', { name, exact: true }).count(),
        1,
        `a navigation link "${name}"`,
      );
    }
    await page.getByRole('link', { name: 'Overview', exact: true }).click();
    assert.ok(
      (await page.getByRole('img', { name: /Orders by channel/ }).count()) >= 1,
      'the overview charts the orders',
    );
    await screenshot(page, 'console-overview');
  });

  it('finds an order by its phone in any form, shows its timeline, and refunds it after a confirmation', async () => {
    await page.getByRole('link', { name: 'Orders', exact: true }).click();
    await page.getByLabel('Search').fill('+86 138-0013-8000');
    await page.getByLabel('Search').press('Enter');
    await page.getByRole('link', { name: orderId }).click();
    assert.match((await page.getByRole('heading', { level: 1 }).textContent()) ?? '', new RegExp(orderId));
    const timeline = page.getByRole('region', { name: 'Timeline' });
    const text = (await timeline.textContent()) ?? '';
    for (const word of ['awaiting_payment', 'paid', 'fulfilled', 'SMS'])
      assert.match(text, new RegExp(word), `the timeline says ${word}`);
    await screenshot(page, 'console-order');
    await page.getByRole('button', { name: 'Refund' }).click();
    await page.getByLabel('Amount').fill('99.00');
    await page.getByLabel('Reason').fill('the viewer asked');
    await page.getByRole('button', { name: 'Confirm refund' }).click();
    assert.equal(
      await page.getByRole('alert').textContent(),
      'That is more than is left to refund: at most ¥9.90 (refunds still pending count).',
      'an over-refund is refused in words, with what is left',
    );
    assert.equal(await page.getByLabel('Amount').inputValue(), '99.00', 'what was typed stays');
    assert.equal(await page.getByLabel('Reason').inputValue(), 'the viewer asked');
    assert.equal((await sys.backendAdmin('GET', `/admin/v1/orders/${orderId}`)).json().refundedMinor, 0);
    await page.getByLabel('Amount').fill('9.90');
    await page.getByRole('button', { name: 'Confirm refund' }).click();
    await page.getByRole('status').waitFor();
    await eventually(async () => {
      await page.reload();
      assert.equal(await page.getByTestId('status').textContent(), 'refunded');
    });
    assert.equal(
      (await sys.backendAdmin('GET', `/admin/v1/orders/${orderId}`)).json().refundedMinor,
      990,
      'the whole price went back, once',
    );
    assert.equal(await page.getByRole('button', { name: 'Refund' }).count(), 0, 'a refunded order offers no refund');
  });

  it('provisions a TV with its token shown once, and revokes a device after a confirmation', async () => {
    await page.getByRole('link', { name: 'Devices', exact: true }).click();
    await page.getByLabel('Name').fill('console-tv');
    await page.getByLabel('Subscriber account').fill('acct-console');
    await page.getByRole('button', { name: 'Provision' }).click();
    const token = (await page.getByTestId('device-token').textContent()) ?? '';
    assert.ok(token.length >= 40, 'the new token is shown');
    assert.equal((await sys.as(token)('GET', '/v1/products')).statusCode, 200, 'and works');
    await page.goto(`${sys.config.publicUrls.backend}/console/devices`);
    assert.equal(await page.getByTestId('device-token').count(), 0, 'the token is shown once');
    await page.getByRole('button', { name: 'Revoke console-tv' }).click();
    await page.getByRole('button', { name: 'Confirm revoke' }).click();
    await page.getByRole('status').waitFor();
    await eventually(async () =>
      assert.equal((await sys.as(token)('GET', '/v1/products')).statusCode, 401, 'the revoked TV is refused'),
    );
    await screenshot(page, 'console-devices');
  });

  it('refuses a form that a page of the same site on another port posts with the signed-in operator’s cookie: 403, nothing created', async () => {
    const backend = sys.config.publicUrls.backend;
    const fields = { productId: 'one-fen', title: 'One fen', amount: '0.01', currency: 'CNY', service: 'vod' };
    const inputs = Object.entries({ ...fields, description: '', durationDays: '1', renews: 'no' })
      .map(([k, v]) => `<input type="hidden" name="${k}" value="${v}">`)
      .join('');
    // Another port of 127.0.0.1 is the same site, so SameSite=Strict still sends the cookie.
    const attacker = createServer((_req, res) =>
      res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end(
          `<!doctype html><title>Win a prize</title><form method="post" action="${backend}/console/products">${inputs}</form><script>document.forms[0].submit()</script>`,
        ),
    );
    await new Promise<void>((done) => attacker.listen(0, '127.0.0.1', done));
    const other = await context.newPage();
    try {
      const [response] = await Promise.all([
        other.waitForResponse((r) => r.url() === `${backend}/console/products` && r.request().method() === 'POST'),
        other.goto(`http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`),
      ]);
      assert.match(
        (await response.request().allHeaders()).cookie ?? '',
        /tvpay_backend_console=/,
        "the browser did send the operator's cookie",
      );
      assert.equal(response.status(), 403);
      const products = (await sys.backendAdmin('GET', '/admin/v1/products')).json() as Array<{ productId: string }>;
      assert.ok(!products.some((p) => p.productId === 'one-fen'), 'no product was created');
    } finally {
      await other.close();
      await new Promise((done) => attacker.close(done));
    }
  });

  it('shows the SMS sent and the budget, the products, webhooks and reconciliation, and signs out', async () => {
    for (const name of ['SMS', 'Products', 'Subscriptions', 'Webhooks', 'Reconciliation']) {
      await page.getByRole('link', { name, exact: true }).click();
      assert.equal((await page.getByRole('heading', { level: 1 }).textContent())?.trim(), name);
    }
    await page.getByRole('link', { name: 'SMS', exact: true }).click();
    assert.match((await page.getByTestId('budget').textContent()) ?? '', /SMS budget: \d+ of \d+ used/);
    const sent = (await page.getByRole('table').textContent()) ?? '';
    assert.match(sent, new RegExp(`${orderId}confirmation codepayment server`), "the payment server's code SMS");
    assert.doesNotMatch(sent, /13800138000/, 'phones masked');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.goto(`${sys.config.publicUrls.backend}/console/orders`);
    assert.match(page.url(), /\/console\/sign-in$/, 'signed out');
  });

  it("lets the wallet provider find an account by phone with its balances and ledger entries, and read and download a day's statement", async () => {
    await signIn(sys.config.publicUrls.payserver);
    for (const name of ['Accounts', 'Payments', 'Statements'])
      assert.equal(await page.getByRole('navigation').getByRole('link', { name, exact: true }).count(), 1);
    await page.getByLabel('Search').fill('138 0013 8000');
    await page.getByLabel('Search').press('Enter');
    await page.getByRole('link', { name: /^acc_/ }).first().click();
    assert.match((await page.getByTestId('wallet').textContent()) ?? '', /¥[\d,.]+ · held ¥0\.00/);
    const moved = (await page.getByRole('table').first().textContent()) ?? '';
    assert.match(moved, /payment/, 'the capture of the purchase');
    assert.match(moved, /refund/, 'and its refund');
    assert.match(moved, /-¥9\.90/, 'an amount out of the account reads -¥9.90');
    assert.match(
      (await page.getByRole('table').nth(1).textContent()) ?? '',
      /¥9\.90taken/,
      "the purchase's hold, apart, as taken",
    );
    await screenshot(page, 'console-account');
    await page.getByRole('link', { name: 'Statements', exact: true }).click();
    assert.match((await page.getByTestId('audit').textContent()) ?? '', /^Sound/);
    await page.getByLabel('Business day').fill(businessDate(new Date(), sys.config.businessTimeZone));
    await page.getByRole('button', { name: 'Show' }).click();
    assert.match(
      (await page.getByRole('table').textContent()) ?? '',
      new RegExp(orderId),
      "the day's statement lists the order",
    );
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: /Download .* as CSV/ }).click(),
    ]);
    assert.match(download.suggestedFilename(), /^tvpay-statement-\d{4}-\d{2}-\d{2}\.csv$/);
    await screenshot(page, 'console-statements');
  });

  it("keeps the two consoles' sessions apart in one browser, and signing out ends a session for good", async () => {
    const { backend, payserver } = sys.config.publicUrls;
    await signIn(backend);
    const names = (await context.cookies()).map((c) => c.name).sort();
    assert.deepEqual(names, ['tvpay_backend_console', 'tvpay_payserver_console'], 'one cookie per console');
    const [old] = (await context.cookies()).filter((c) => c.name === 'tvpay_payserver_console');
    await page.goto(`${payserver}/console/accounts`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.goto(`${backend}/console/orders`);
    assert.match(page.url(), /\/console\/orders$/, "signing out of the payment server's console leaves the back-end's");
    await context.addCookies([old!]);
    await page.goto(`${payserver}/console/accounts`);
    assert.match(page.url(), /\/console\/sign-in$/, 'the old cookie, put back, no longer opens the console');
  });

  it("opens each payment of an account's ledger from its link, and lists payments newest first by status", async () => {
    // The test before signs out of this console: sign in again, as the operator would.
    await signIn(sys.config.publicUrls.payserver);
    await page.goto(`${sys.config.publicUrls.payserver}/console/accounts`);
    await page.getByLabel('Search').fill('13800138000');
    await page.getByLabel('Search').press('Enter');
    await page.getByRole('link', { name: /^acc_/ }).first().click();
    const links = page.getByRole('table').first().getByRole('link', { name: /^pay_/ });
    assert.ok((await links.count()) >= 1, 'the ledger links its payments');
    const paymentId = (await links.first().textContent()) ?? '';
    await links.first().click();
    await page.waitForURL(/\/console\/payments\?q=pay_/);
    assert.deepEqual(
      await page.getByTestId('payment-id').allTextContents(),
      [paymentId],
      'the link opens that payment',
    );
    assert.doesNotMatch((await page.locator('main').innerText()) ?? '', /No payment/);
    await page.getByRole('link', { name: 'Payments', exact: true }).click();
    assert.ok((await page.getByTestId('payment-id').count()) >= 1, 'the Payments page lists payments');
    await page.getByLabel('Status').selectOption('refunded');
    await page.getByRole('button', { name: 'Search' }).click();
    assert.ok((await page.getByTestId('payment-id').allTextContents()).includes(paymentId), 'filtered by status');
    await page.getByLabel('Status').selectOption('pending');
    await page.getByRole('button', { name: 'Search' }).click();
    assert.ok(
      !(await page.getByTestId('payment-id').allTextContents()).includes(paymentId),
      "!(await page.getByTestId('payment-id').allTextContents()).includes(paymentId)",
    );
  });

  it('adds a webhook with its secret shown once, and deletes it after a confirmation', async () => {
    await signIn(sys.config.publicUrls.backend);
    await page.getByRole('link', { name: 'Webhooks', exact: true }).click();
    const url = 'https://hooks.example.net/tvpay-console';
    await page.getByLabel('Receiver URL').fill(url);
    await page.getByLabel('order paid').check();
    await page.getByLabel('refund succeeded').check();
    await page.getByRole('button', { name: 'Add webhook' }).click();
    assert.match((await page.getByTestId('webhook-secret').textContent()) ?? '', /^whsec_/);
    const hooks = (await sys.backendAdmin('GET', '/admin/v1/webhooks')).json() as Array<{
      url: string;
      events: string[];
    }>;
    assert.deepEqual(hooks.find((h) => h.url === url)?.events, ['order.paid', 'refund.succeeded']);
    await page.goto(`${sys.config.publicUrls.backend}/console/webhooks`);
    assert.equal(await page.getByTestId('webhook-secret').count(), 0, 'the secret is shown once');
    await page.getByRole('link', { name: `Delete ${url}` }).click();
    await page.getByRole('button', { name: 'Confirm delete' }).click();
    await page.getByRole('status').waitFor();
    const left = (await sys.backendAdmin('GET', '/admin/v1/webhooks')).json() as Array<{ url: string }>;
    assert.ok(!left.some((h) => h.url === url), 'deleted');
  });

  it('exports the filtered orders as CSV in yuan and words, and finds an order by its payment or refund id', async () => {
    await page.getByRole('link', { name: 'Orders', exact: true }).click();
    await page.getByLabel('Search').fill('13800138000');
    await page.getByLabel('Status').selectOption('refunded');
    await page.getByRole('button', { name: 'Search' }).click();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Export these orders as CSV' }).click(),
    ]);
    const csv = await readFile((await download.path())!, 'utf8');
    const [head, ...rows] = csv
      .replace(/^\ufeff/, '')
      .trim()
      .split('\r\n');
    assert.match(head!, /^"Order","Created","Product","Amount","Refunded"/);
    const row = rows.find((r) => r.startsWith(`"${orderId}"`));
    assert.ok(row, 'the refunded order is in the export');
    assert.match(row!, /"9\.90","9\.90","CNY","refunded","SMS confirmation","wallet"/);
    assert.match(row!, /138\*\*\*\*8000|\*{4}/, 'the phone is masked');
    assert.ok(
      rows.every((r) => r.includes('"refunded"')),
      'only the filtered orders',
    );
    const order = (await sys.backendAdmin('GET', `/admin/v1/orders/${orderId}`)).json();
    const [refund] = (await sys.backendAdmin('GET', `/admin/v1/orders/${orderId}/refunds`)).json();
    for (const id of [order.paymentId, refund.refundId]) {
      await page.getByLabel('Find by order, payment or refund id, or phone').fill(id);
      await page.getByLabel('Find by order, payment or refund id, or phone').press('Enter');
      await page.waitForURL(new RegExp(`/console/orders/${orderId}$`));
    }
  });

  it('speaks only words, yuan and local time on every page, in Chinese and in English', async () => {
    const account = (await sys.payAdmin('GET', '/admin/v1/accounts?phone=13800138000')).json()[0].accountId;
    const payment = (await sys.backendAdmin('GET', `/admin/v1/orders/${orderId}`)).json().paymentId;
    const today = businessDate(new Date(), sys.config.businessTimeZone);
    const pages = {
      [sys.config.publicUrls.backend]: [
        '/overview',
        '/orders',
        `/orders/${orderId}`,
        `/orders/${failedId}`,
        `/orders/${railId}`,
        '/orders?status=failed',
        '/subscriptions',
        '/products',
        '/devices',
        '/sms',
        '/webhooks',
        '/webhooks?webhook=fulfilment',
        '/reconciliation',
      ],
      [sys.config.publicUrls.payserver]: [
        '/accounts?q=13800138000',
        `/accounts/${account}`,
        '/payments',
        '/payments?status=failed',
        `/payments?q=${payment}`,
        '/payments?source=alipay',
        `/statements?date=${today}`,
        '/rails',
        `/rails?date=${today}`,
      ],
    };
    const found: string[] = [];
    for (const lang of ['zh-CN', 'en-US']) {
      const ctx = await browser.newContext({ locale: lang, viewport: { width: 1440, height: 900 } });
      const p = await ctx.newPage();
      for (const [base, paths] of Object.entries(pages)) {
        await p.goto(`${base}/console/sign-in`);
        await p.getByLabel(lang === 'en-US' ? 'Admin token' : '管理令牌').fill(sys.secrets.adminToken);
        await p.getByRole('button', { name: lang === 'en-US' ? 'Sign in' : '登录' }).click();
        await p.getByRole('navigation').waitFor();
        for (const path of paths) {
          await p.goto(`${base}/console${path}`);
          if (lang === 'zh-CN' && path === `/orders/${orderId}`) await screenshot(p, 'console-order-zh');
          for (const word of rawWords(await pageText(p, lang), lang)) found.push(`${lang} ${path}: ${word}`);
          if (path === `/orders/${railId}`) {
            const timeline = (await p.getByRole('region', { name: 'Timeline' }).innerText()) ?? '';
            const lines =
              lang === 'en-US'
                ? ['Alipay pre-order → QR code', 'Alipay notification: paid']
                : ['支付宝 预下单 → 二维码', '支付宝 通知：已支付'];
            const at = lines.map((l) => timeline.indexOf(l));
            if (!(at[0]! >= 0 && at[1]! > at[0]!)) found.push(`${lang} ${path}: the rail lines are not in order`);
            if (/sign=|BEGIN [A-Z ]*KEY/i.test(await p.content())) found.push(`${lang} ${path}: a signature or key`);
          }
          if (path === '/payments?source=alipay' && !(await p.getByTestId('provider-trade-no').count()))
            found.push(`${lang} ${path}: no rail payment with its trade number`);
          const overflow = await p.evaluate(() =>
            [...document.querySelectorAll('table')].some((t) => t.getBoundingClientRect().right > window.innerWidth),
          );
          if (overflow) found.push(`${lang} ${path}: a table overflows the page at 1440 px`);
        }
      }
      await ctx.close();
    }
    assert.deepEqual(found, []);
  });

  it('ran without a script error on any page', () => {
    assert.deepEqual(scriptErrors, []);
  });
});

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { businessDate } from '../../src/lib/business-day.ts';
import { browserSkip, launchBrowser, screenshot } from '../support/browser.ts';
import { eventually } from '../support/eventually.ts';
import { testSystem, type TestSystem } from '../support/system.ts';

const skip = browserSkip();

describe("the operators' consoles in Chromium", { skip }, () => {
  let sys: TestSystem;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const scriptErrors: string[] = [];
  let orderId: string;

  before(async () => {
    sys = await testSystem();
    browser = await launchBrowser();
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
  });
  after(async () => {
    await browser?.close();
    await sys?.close();
  });

  const signIn = async (base: string) => {
    await page.goto(`${base}/console/`);
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
    assert.ok(!cookie.value.includes(sys.secrets.adminToken) && !page.url().includes(sys.secrets.adminToken));
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
    await page.getByLabel('Amount').fill('9.90');
    await page.getByLabel('Reason').fill('the viewer asked');
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
    assert.match(
      (await page.getByRole('table').textContent()) ?? '',
      /capture|refund/,
      'the ledger entries of the purchase and its refund',
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

  it('ran without a script error on any page', () => {
    assert.deepEqual(scriptErrors, []);
  });
});

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { browserSkip, launchBrowser, screenshot } from '../../../test/support/browser.ts';
import { freePorts } from '../../../test/support/ports.ts';
import { systemClock } from '../../lib/clock.ts';
import { createApp } from '../../lib/http/create-app.ts';
import { cryptoRandom } from '../../lib/ids.ts';
import { createLogger } from '../../lib/log.ts';
import { createAlipayRail } from '../../payserver/rails/alipay/alipay-rail.ts';
import type { Rail } from '../../payserver/rails/rail.ts';
import { buildDevAlipay, type DevAlipay } from './index.ts';

/**
 * The cashier in Chromium, as a payer's phone shows it: the wap.pay link, the cashier under its own
 * content security policy, Pay, and the redirect back to the merchant's return_url on another origin.
 */
describe('the development Alipay cashier in a browser', { skip: browserSkip() }, () => {
  const log = createLogger('silent');
  let dir: string;
  let dev: DevAlipay;
  let app: FastifyInstance;
  let merchant: Server;
  let browser: Browser;
  let rail: Rail;
  let returnBase: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tvpay-alipay-browser-'));
    const [port, merchantPort] = await freePorts(2);
    dev = await buildDevAlipay({
      dataDir: dir,
      clock: systemClock,
      random: cryptoRandom,
      log,
      publicUrl: `http://127.0.0.1:${port}`,
    });
    app = await createApp({ log, title: 'dev carrier', ready: async () => true });
    dev.routes(app);
    await app.listen({ port: port!, host: '127.0.0.1' });
    // Another origin (localhost, not 127.0.0.1) for the merchant's return page.
    merchant = createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<h1>merchant back</h1>'),
    );
    await new Promise<void>((r) => merchant.listen(merchantPort, '127.0.0.1', r));
    returnBase = `http://localhost:${merchantPort}/back`;
    rail = createAlipayRail({
      mode: 'dev',
      appId: dev.keys.appId,
      privateKeyPem: dev.keys.appPrivateKeyPem,
      alipayPublicKeyPem: dev.keys.alipayPublicKeyPem,
      gateway: dev.keys.gateway,
      notifyUrl: `http://127.0.0.1:${merchantPort}/notify`,
    });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await app.close();
    await new Promise((r) => merchant.close(r));
    await dev.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pays at the cashier and lands on the merchant’s return_url with the signed params', async () => {
    const outTradeNo = `B${Date.now()}`;
    const started = await rail.start({
      kind: 'redirect',
      outTradeNo,
      amountMinor: 880,
      currency: 'CNY',
      subject: '会员 <月卡>',
      expiresAt: new Date(Date.now() + 600_000),
      returnUrl: returnBase,
      payerClientIp: '127.0.0.1',
      sign: { externalAgreementNo: 'EAB1', phone: '+8613800138000' },
    });
    assert.equal(started.state, 'redirect');
    const page = await browser.newPage();
    try {
      await page.goto((started as { url: string }).url);
      await page.getByText('Development Alipay: no real money moves').waitFor();
      assert.match(await page.content(), /¥8\.80[\s\S]*会员 &lt;月卡&gt;/);
      await screenshot(page, 'dev-alipay-cashier');
      await page.getByRole('button', { name: '付款并签约 / Pay and sign the agreement' }).click();
      await page.waitForURL((u) => u.href.startsWith(returnBase));
      const back = new URL(page.url());
      assert.equal(back.searchParams.get('out_trade_no'), outTradeNo);
      assert.ok(back.searchParams.get('sign'));
      assert.equal(await page.textContent('h1'), 'merchant back');
    } finally {
      await page.close();
    }
    assert.equal((await rail.query(outTradeNo)).state, 'paid');
  });
});

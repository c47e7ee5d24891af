import assert from 'node:assert/strict';
import { createVerify } from 'node:crypto';
import { statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AlipaySdk } from 'alipay-sdk';
import { freePorts } from '../../../test/support/ports.ts';
import { ManualClock } from '../../lib/clock.ts';
import { createLogger } from '../../lib/log.ts';
import { beijingTime } from '../../payserver/rails/alipay/amounts.ts';
import { startDevAlipay, type DevAlipayHarness } from '../../../test/support/dev-alipay.ts';
import { ensureDevAlipayKeys, type DevAlipay } from './index.ts';
import { RETRY_AFTER_MS } from './notifier.ts';

describe('the development Alipay', () => {
  const clock = new ManualClock(Date.now());
  const log = createLogger('silent');
  let gateway: DevAlipayHarness;
  let dir: string;
  let dev: DevAlipay;
  let base: string;
  let sdk: AlipaySdk;
  let refusing: Server;
  let refusingUrl: string;
  let refused = 0;

  before(async () => {
    gateway = await startDevAlipay({ clock, log, dirPrefix: 'tvpay-dev-alipay-', publicSlash: true });
    ({ dir, dev, base } = gateway);
    const [refusingPort] = await freePorts(1);
    refusing = createServer((_req, res) => void (refused++, res.end('SUCCESS')));
    await new Promise<void>((r) => refusing.listen(refusingPort, '127.0.0.1', r));
    refusingUrl = `http://127.0.0.1:${refusingPort}/notify`;
    sdk = new AlipaySdk({
      appId: dev.keys.appId,
      privateKey: dev.keys.appPrivateKeyPem,
      alipayPublicKey: dev.keys.alipayPublicKeyPem,
      gateway: dev.keys.gateway,
      keyType: 'PKCS8',
      camelcase: false,
    });
  });

  after(async () => {
    await new Promise((r) => refusing.close(r));
    await gateway.close();
  });

  let n = 0;
  const trade = (fields: Record<string, unknown> = {}) => ({
    out_trade_no: `D${Date.now()}_${++n}`,
    total_amount: '1.00',
    subject: 'x',
    time_expire: beijingTime(new Date(clock.now().getTime() + 600_000)),
    ...fields,
  });

  it('keeps its keys and app id in the data dir, private keys owner-only, the same on every start', () => {
    const again = ensureDevAlipayKeys(dir);
    assert.equal(again.appId, dev.keys.appId);
    assert.equal(again.alipayPublicKeyPem, dev.keys.alipayPublicKeyPem);
    assert.match(again.appId, /^2021\d{12}$/);
    for (const f of ['app_private_key.pem', 'alipay_private_key.pem']) {
      assert.equal(statSync(join(dir, 'dev-alipay', f)).mode & 0o777, 0o600, f);
    }
    assert.equal(dev.keys.gateway, `${base}/dev/alipay/gateway.do`);
  });

  it('signs every answer over the exact response text with its own key', async () => {
    const body = new URLSearchParams({ biz_content: '{}' });
    const raw = await (
      await fetch(`${dev.keys.gateway}?method=alipay.trade.query&app_id=1`, { method: 'POST', body })
    ).text();
    const m = /^\{"alipay_trade_query_response":(\{.*\}),"sign":"([^"]+)"\}$/.exec(raw);
    assert.ok(m, raw);
    assert.ok(
      createVerify('RSA-SHA256').update(m[1]!).verify(dev.keys.alipayPublicKeyPem, m[2]!, 'base64'),
      "createVerify('RSA-SHA256').update(m[1]!).verify(dev.keys.alipayPublicKeyPem, m[2]!, 'base64')",
    );
    assert.equal(JSON.parse(m[1]!).sub_code, 'isv.invalid-app-id');
  });

  it('refuses a request whose signature does not cover what was sent', async () => {
    const url = new URL(sdk.pageExecute('alipay.trade.query', 'GET', { bizContent: { out_trade_no: 'A1' } }));
    url.searchParams.set('biz_content', JSON.stringify({ out_trade_no: 'A2' }));
    const body = new URLSearchParams({ biz_content: url.searchParams.get('biz_content')! });
    url.searchParams.delete('biz_content');
    const raw = await (await fetch(url, { method: 'POST', body })).text();
    assert.match(raw, /"code":"40002".*"sub_code":"isv.invalid-signature"/);
  });

  it('refuses amounts Alipay refuses, and accepts those it accepts', async () => {
    for (const total_amount of ['1.001', '0', '0.00', '-1.00', 'abc', '100000000.01']) {
      const a = await sdk.exec(
        'alipay.trade.precreate',
        { bizContent: trade({ total_amount }) },
        { validateSign: true },
      );
      assert.deepEqual([a.code, a.sub_code], ['40004', 'ACQ.INVALID_PARAMETER'], total_amount);
    }
    const ok = await sdk.exec(
      'alipay.trade.precreate',
      { bizContent: trade({ total_amount: '2.5' }) },
      { validateSign: true },
    );
    assert.equal(ok.code, '10000');
    const late = await sdk.exec(
      'alipay.trade.precreate',
      { bizContent: trade({ time_expire: beijingTime(clock.now()) }) },
      { validateSign: true },
    );
    assert.equal(late.sub_code, 'ACQ.INVALID_PARAMETER');
  });

  it('answers concurrent precreates of one out_trade_no with one trade, never an error', async () => {
    const t = trade();
    const answers = await Promise.all(
      Array.from({ length: 4 }, () => sdk.exec('alipay.trade.precreate', { bizContent: t }, { validateSign: true })),
    );
    assert.deepEqual(new Set(answers.map((a) => `${a.code} ${a.qr_code}`)).size, 1, JSON.stringify(answers));
    assert.equal(answers[0]!.code, '10000');
  });

  it('shows a refused page call as a page, and no cashier for an unknown trade', async () => {
    const url = sdk.pageExecute('alipay.trade.wap.pay', 'GET', {
      bizContent: trade({ product_code: 'FAST_INSTANT_TRADE_PAY' }),
    });
    const page = await fetch(url);
    assert.equal(page.status, 400);
    assert.match(await page.text(), /ACQ.INVALID_PARAMETER[\s\S]*QUICK_WAP_WAY/);
    const none = await fetch(`${base}/dev/alipay/cashier/123`);
    assert.equal(none.status, 404);
    assert.match(await none.text(), /Development Alipay: no real money moves/);
    assert.equal((await fetch(`${base}/dev/alipay/scan?qr=${encodeURIComponent('<x>')}`)).status, 404);
  });

  it('gives a bill link that works for 30 seconds only', async () => {
    const day = beijingTime(new Date(clock.now().getTime() - 86_400_000)).slice(0, 10);
    const a = await sdk.exec(
      'alipay.data.dataservice.bill.downloadurl.query',
      { bizContent: { bill_type: 'trade', bill_date: day } },
      { validateSign: true },
    );
    assert.equal(a.code, '10000');
    const first = await fetch(a.bill_download_url);
    assert.equal(first.headers.get('content-type'), 'application/zip');
    assert.equal((await first.arrayBuffer()).byteLength > 0, true);
    clock.advance(31_000);
    assert.equal((await fetch(a.bill_download_url)).status, 404);
    const signal = await sdk.exec(
      'alipay.data.dataservice.bill.downloadurl.query',
      { bizContent: { bill_type: 'signcustomer', bill_date: day } },
      { validateSign: true },
    );
    assert.equal(signal.code, '40004');
  });

  it('stops retrying a notification after Alipay’s last retry (15 h) when the answer is never success', async () => {
    const t = trade();
    const a = await sdk.exec(
      'alipay.trade.precreate',
      { notify_url: refusingUrl, bizContent: t },
      { validateSign: true },
    );
    await fetch(`${base}/dev/alipay/scan`, { method: 'POST', body: new URLSearchParams({ qr: a.qr_code }) });
    refused = 0;
    await dev.deliverNotifications();
    for (const wait of RETRY_AFTER_MS) {
      clock.advance(wait);
      await dev.deliverNotifications();
    }
    assert.equal(refused, 1 + RETRY_AFTER_MS.length, '`SUCCESS` is not `success`');
    clock.advance(86_400_000);
    await dev.deliverNotifications();
    assert.equal(refused, 1 + RETRY_AFTER_MS.length, 'given up');
  });
});

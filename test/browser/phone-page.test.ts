import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { phonePage } from '../../src/carrier/phone-page.ts';
import { loadConfig } from '../../src/config/config.ts';
import { loadSecrets } from '../../src/config/secrets.ts';
import { ShiftedClock } from '../../src/lib/clock.ts';
import { cryptoRandom } from '../../src/lib/ids.ts';
import { createLogger } from '../../src/lib/log.ts';
import { startSystem } from '../../src/system.ts';
import { browserSkip, launchBrowser, screenshot } from '../support/browser.ts';
import { eventually } from '../support/eventually.ts';
import { freePorts } from '../support/ports.ts';

const skip = browserSkip();
const DIGITS = '8613800138000';

/** WCAG's contrast ratio of two CSS `rgb(…)` colours. */
function contrast(a: string, b: string): number {
  const lum = (c: string) => {
    const [r, g, bl] = (c.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map((v) => {
      const s = Number(v) / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    }) as [number, number, number];
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

describe('the development phone page in Chromium', { skip }, () => {
  let browser: Browser;
  let page: Page;
  const dir = mkdtempSync(join(tmpdir(), 'tvpay-phone-page-'));
  before(async () => {
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
  });
  after(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows the time of every message legibly, on the blue bubbles of replies too', async () => {
    const at = '2026-12-06T10:11:12.000Z';
    await page.setContent(
      phonePage(DIGITS, [
        { id: 'm1', seq: 1, phone: DIGITS, direction: 'mt', peer: '10690000', text: '验证码 123456', at },
        { id: 'm2', seq: 2, phone: DIGITS, direction: 'mo', peer: '10690000', text: '123456', at },
      ]),
    );
    for (const kind of ['mt', 'mo']) {
      const [fg, bg] = await page.$eval(`.${kind} .meta`, (el) => [
        getComputedStyle(el).color,
        getComputedStyle(el.parentElement!).backgroundColor,
      ]);
      assert.ok(contrast(fg!, bg!) >= 4.5, `${kind}: the time is ${fg} on ${bg}`);
    }
  });

  it('says it is reconnecting while the carrier is down, and recovers when it is back', async () => {
    const [port] = await freePorts(1);
    const config = loadConfig({ TVPAY_DATA_DIR: dir, TVPAY_CARRIER_PORT: String(port) });
    const start = () =>
      startSystem(
        {
          config,
          secrets: loadSecrets(config).secrets,
          clock: new ShiftedClock(),
          random: cryptoRandom,
          log: createLogger('silent'),
        },
        ['carrier'],
      );
    let carrier = await start();
    try {
      await page.goto(`${config.publicUrls.carrier}/dev/phones/${DIGITS}`);
      const status = page.locator('#status');
      assert.equal(await status.isVisible(), false);
      await carrier.close();
      await eventually(async () => assert.match(await status.innerText(), /重新连接|reconnecting/i), 20_000);
      await screenshot(page, 'phone-page-reconnecting');
      carrier = await start();
      await carrier.carrier!.carrier.deliver(DIGITS, '10690000', '欢迎回来');
      await eventually(async () => {
        assert.match(await page.locator('#thread').innerText(), /欢迎回来/);
        assert.equal(await status.isVisible(), false);
      }, 20_000);
    } finally {
      await carrier.close();
    }
  });
});

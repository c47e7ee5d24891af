import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import QRCode from 'qrcode';
import { browserSkip, suiteBrowser } from '../support/browser.ts';
import { suiteSystem } from '../support/system.ts';

const skip = browserSkip();

/**
 * The dark modules of a QR code drawn by `qrcode`'s SVG renderer: a path of horizontal runs (`M x y.5`,
 * `m dx dy`, `h n`) over a quiet zone of `margin` modules. Read back into rows of 0 and 1.
 */
function modulesOfSvg(svg: string, margin: number): number[][] {
  const side = Number(/viewBox="0 0 (\d+) \d+"/.exec(svg)?.[1]);
  assert.ok(side > 2 * margin, `an SVG QR code: ${svg.slice(0, 120)}`);
  const d = /<path[^>]*stroke="[^"]*"[^>]*d="([^"]*)"/.exec(svg)?.[1] ?? '';
  const size = side - 2 * margin;
  const rows = Array.from({ length: size }, () => new Array<number>(size).fill(0));
  let x = 0;
  let y = 0;
  for (const [, cmd, args] of d.matchAll(/([Mmh])([^Mmh]*)/g)) {
    const n = args!
      .trim()
      .split(/[\s,]+/)
      .map(Number);
    if (cmd === 'M') [x, y] = [n[0]!, n[1]!];
    else if (cmd === 'm') [x, y] = [x + n[0]!, y + n[1]!];
    else {
      for (let i = 0; i < n[0]!; i++) rows[Math.floor(y) - margin]![x + i - margin] = 1;
      x += n[0]!;
    }
  }
  return rows;
}

/** `qrcode`'s own matrix for a text at an error-correction level, as rows of 0 and 1. */
function modulesOfText(text: string, level: 'L' | 'M'): number[][] {
  const { modules } = QRCode.create(text, { errorCorrectionLevel: level });
  return Array.from({ length: modules.size }, (_, r) =>
    Array.from({ length: modules.size }, (_, c) => (modules.get(r, c) ? 1 : 0)),
  );
}

/**
 * Issue 28 item 8: the TV's QR code for each rail, drawn from the real development rails' answers, holds
 * exactly the `qrText` the back-end gave (equal modules at the same error-correction level decode to the
 * same text; no decoder package is installed); and a payment of that text on the rail's scan page brings
 * the TV to its success screen.
 */
describe("the TV's rail QR codes, in Chromium, against the development rails", { skip }, () => {
  const browser = suiteBrowser();
  const sys = suiteSystem();

  it('draws each rail QR code with the modules of the qrText the API gave, and pays by it', async () => {
    const tv = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
    const given = new Map<string, string>();
    tv.on('response', async (res) => {
      if (!/\/v1\/orders\/[^/]+\/scan$/.test(res.url()) || res.status() !== 200) return;
      const body = (await res.json()) as { rail: string; qrText: string };
      given.set(body.rail, body.qrText);
    });
    await tv.goto(`${sys.config.publicUrls.backend}/tv/#device=${sys.deviceToken}`);
    await tv.waitForSelector('#stage[data-screen="catalogue"]');
    for (const k of ['Enter', 'Enter', ...'13800138000'.split(''), 'Enter']) await tv.keyboard.press(k);
    for (const rail of ['alipay', 'wechatpay']) {
      await tv.waitForSelector(`[data-testid="qr-${rail}"] svg`, { timeout: 20_000 });
      const svg = await tv.locator(`[data-testid="qr-${rail}"] svg`).evaluate((el) => el.outerHTML);
      const text = given.get(rail);
      assert.ok(text, `the TV was given a qrText for ${rail}`);
      const drawn = modulesOfSvg(svg, 2);
      assert.deepEqual(drawn, modulesOfText(text, 'M'), `the ${rail} code on screen is ${text}`);
      assert.notDeepEqual(drawn, modulesOfText(text, 'L'), 'the comparison tells error-correction levels apart');
      assert.notDeepEqual(drawn, modulesOfText(`${text}0`, 'M'), 'the comparison tells texts apart');
    }
    const res = await sys.carrier.app.inject({
      method: 'POST',
      url: '/dev/alipay/scan',
      payload: new URLSearchParams({ qr: given.get('alipay')! }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(res.statusCode, 200, res.body);
    await tv.waitForSelector('#stage[data-screen="success"]', { timeout: 60_000 });
    await tv.close();
  });
});

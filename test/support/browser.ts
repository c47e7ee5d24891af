import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { perSuite } from './per-suite.ts';

const CHROMIUM = process.env.TVPAY_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS = resolve(import.meta.dirname, '../../test-artifacts/screenshots');

/** Skip reason when Debian's Chromium is missing (said loudly), or a failure when TVPAY_REQUIRE_BROWSER=1. */
export function browserSkip(): string | false {
  if (existsSync(CHROMIUM)) return false;
  const message = `Chromium is not installed at ${CHROMIUM}: SKIPPING the browser tests`;
  if (process.env.TVPAY_REQUIRE_BROWSER === '1') throw new Error(`${message} is not allowed (TVPAY_REQUIRE_BROWSER=1)`);
  console.warn(`\n!!! ${message} !!!\n`);
  return message;
}

/** Debian's Chromium, headless, with the flags this closed network needs. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

/** One Chromium for the tests of the `describe` this is called in: launched before them, closed after them. */
export const suiteBrowser = (): Browser => perSuite(launchBrowser, (browser) => browser.close());

/** The part of a 1920×1080 TV screen that every TV shows (overscan leaves out the rest): what a TV page must keep to. */
export const TV_SAFE_AREA = { left: 96, top: 54, right: 1824, bottom: 1026 };

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

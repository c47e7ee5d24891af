import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../../config/config.ts';
import { StartError } from '../../lib/start-error.ts';
import { alipayLiveKeys, wechatpayLiveKeys } from './rail-keys.ts';

const dir = mkdtempSync(join(tmpdir(), 'tvpay-rail-keys-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('the rails configuration', () => {
  it('has both rails on against their development gateways by default', () => {
    const c = loadConfig({});
    assert.equal(c.rails.alipay.mode, 'dev');
    assert.equal(c.rails.wechatpay.mode, 'dev');
    assert.equal(c.rails.alipay.gateway, 'https://openapi.alipay.com/gateway.do');
  });

  it('refuses a rail mode that is not off, dev or live, naming the variable', () => {
    assert.throws(
      () => loadConfig({ TVPAY_ALIPAY: 'sandbox' }),
      /TVPAY_ALIPAY="sandbox" must be one of off, dev, live/,
    );
  });

  it('stops a live Alipay start naming the first missing variable', () => {
    const c = loadConfig({ TVPAY_ALIPAY: 'live', TVPAY_ALIPAY_APP_ID: '2021000000000000' });
    assert.throws(
      () => alipayLiveKeys(c.rails.alipay),
      (err) => err instanceof StartError && /TVPAY_ALIPAY_PRIVATE_KEY_FILE is required/.test(err.message),
    );
  });

  it('stops a live Alipay start naming an unreadable key file, without its content', () => {
    const c = loadConfig({
      TVPAY_ALIPAY: 'live',
      TVPAY_ALIPAY_APP_ID: '2021000000000000',
      TVPAY_ALIPAY_PRIVATE_KEY_FILE: file('app.pem', '-----BEGIN PRIVATE KEY-----\nabc\n'),
      TVPAY_ALIPAY_PUBLIC_KEY_FILE: join(dir, 'absent.pem'),
    });
    assert.throws(
      () => alipayLiveKeys(c.rails.alipay),
      (err) =>
        err instanceof StartError &&
        /TVPAY_ALIPAY_PUBLIC_KEY_FILE names a file that cannot be read \(ENOENT\)/.test(err.message) &&
        !err.message.includes('abc'),
    );
  });

  it('reads a complete live Alipay', () => {
    const c = loadConfig({
      TVPAY_ALIPAY: 'live',
      TVPAY_ALIPAY_APP_ID: '2021000000000000',
      TVPAY_ALIPAY_PRIVATE_KEY_FILE: file('app2.pem', 'PRIVATE\n'),
      TVPAY_ALIPAY_PUBLIC_KEY_FILE: file('ali.pem', 'PUBLIC\n'),
    });
    assert.deepEqual(alipayLiveKeys(c.rails.alipay), {
      gateway: 'https://openapi.alipay.com/gateway.do',
      appId: '2021000000000000',
      privateKey: 'PRIVATE',
      alipayPublicKey: 'PUBLIC',
    });
  });

  it('stops a live WeChat Pay whose API v3 key is not 32 bytes', () => {
    const c = loadConfig({
      TVPAY_WECHATPAY: 'live',
      TVPAY_WECHATPAY_APIV3_KEY_FILE: file('v3.key', 'too-short'),
    });
    assert.throws(() => wechatpayLiveKeys(c.rails.wechatpay), /TVPAY_WECHATPAY_APIV3_KEY_FILE must hold the 32-byte/);
  });

  it('stops a live WeChat Pay naming a missing merchant id', () => {
    const c = loadConfig({
      TVPAY_WECHATPAY: 'live',
      TVPAY_WECHATPAY_APIV3_KEY_FILE: file('v3ok.key', 'a'.repeat(32)),
    });
    assert.throws(() => wechatpayLiveKeys(c.rails.wechatpay), /TVPAY_WECHATPAY_MCH_ID is required/);
  });
});

/**
 * The development WeChat Pay on its own terms: its keys, the refusals WeChat Pay gives, its pages, and
 * notifications retried on WeChat Pay's schedule against the injected clock.
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { Wechatpay } from 'wechatpay-axios-plugin';
import { eventually } from '../../../test/support/eventually.ts';
import { postForm, startDevWechatpay, type DevWechatpayHarness } from '../../../test/support/dev-wechatpay.ts';
import { ensureDevWechatpayKeys } from './keys.ts';
import { NOTIFY_RETRY_MS } from './service.ts';

let h: DevWechatpayHarness;
let n = 0;
const no = () => `D_${process.pid}_${Date.now() % 1e8}_${++n}`;

before(async () => {
  h = await startDevWechatpay();
});
after(async () => {
  await h.close();
});

/** The merchant's plugin client, used raw to send what the rail itself would never send. */
function client() {
  return new Wechatpay({
    mchid: h.keys.mchId,
    serial: h.keys.mchSerial,
    privateKey: h.keys.merchantPrivateKeyPem,
    certs: { [h.keys.publicKeyId]: h.keys.platformPublicKeyPem },
    baseURL: `${h.origin}/dev/wechatpay/`,
  });
}

async function refusal(p: Promise<unknown>): Promise<[number, string]> {
  try {
    await p;
  } catch (err: any) {
    return [err.response?.status, err.response?.data?.code];
  }
  throw new Error('the gateway accepted it');
}

const order = (over: object = {}) => ({
  appid: h.keys.appId,
  mchid: h.keys.mchId,
  description: 'Film',
  out_trade_no: no(),
  notify_url: `${h.origin}/notify`,
  amount: { total: 100, currency: 'CNY' },
  ...over,
});

describe('keys', () => {
  test('made once in <dataDir>/dev-wechatpay with private files 0600, and read back the same', () => {
    const keys = ensureDevWechatpayKeys(h.dataDir);
    assert.deepEqual(keys, h.keys);
    assert.match(keys.publicKeyId, /^PUB_KEY_ID_0114\d{28}$/);
    assert.match(keys.mchSerial, /^[0-9A-F]{40}$/);
    assert.equal(keys.apiV3Key.length, 32);
    for (const f of ['platform_private_key.pem', 'apiclient_key.pem', 'apiv3.key']) {
      assert.equal(statSync(join(h.dataDir, 'dev-wechatpay', f)).mode & 0o777, 0o600, f);
    }
  });
});

describe('refusals', () => {
  test('a request without a WECHATPAY2-SHA256-RSA2048 Authorization is 401 SIGN_ERROR, signed', async () => {
    const res = await fetch(`${h.origin}/dev/wechatpay/v3/pay/transactions/native`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(order()),
    });
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as { code: string }).code, 'SIGN_ERROR');
    assert.equal(res.headers.get('wechatpay-serial'), h.keys.publicKeyId);
  });

  test('bad params are 400 PARAM_ERROR and store nothing', async () => {
    const wx = client();
    for (const bad of [
      order({ out_trade_no: 'short' }),
      order({ amount: { total: 1.5, currency: 'CNY' } }),
      order({ time_expire: '2026-12-06 10:00:00' }),
    ]) {
      assert.deepEqual(await refusal(wx.chain('v3/pay/transactions/native').post(bad)), [400, 'PARAM_ERROR']);
      const unstored = (bad as { out_trade_no: string }).out_trade_no;
      if (unstored !== 'short') {
        const q = wx.chain(`v3/pay/transactions/out-trade-no/${unstored}`).get({ params: { mchid: h.keys.mchId } });
        assert.deepEqual(await refusal(q), [404, 'ORDER_NOT_EXIST']);
      }
    }
    const h5 = order();
    assert.deepEqual(await refusal(wx.chain('v3/pay/transactions/h5').post(h5)), [400, 'PARAM_ERROR']);
  });

  test('closing a paid trade is ORDERPAID; a papay charge on an unknown contract is CONTRACT_NOT_EXIST', async () => {
    const wx = client();
    const o = order();
    const { data } = await wx.chain('v3/pay/transactions/native').post<any>(o);
    await postForm(`${h.origin}/dev/wechatpay/scan`, { code_url: data.code_url });
    const close = wx.chain(`v3/pay/transactions/out-trade-no/${o.out_trade_no}/close`).post({ mchid: h.keys.mchId });
    assert.deepEqual(await refusal(close), [400, 'ORDERPAID']);
    const { notify_url: url, mchid: _m, ...rest } = order();
    const apply = wx
      .chain('v3/papay/pay/transactions/apply')
      .post({ ...rest, transaction_notify_url: url, contract_id: '1' });
    assert.deepEqual(await refusal(apply), [403, 'CONTRACT_NOT_EXIST']);
  });
});

describe('pages', () => {
  test('the scan page escapes what the merchant sent and says no real money moves', async () => {
    const { data } = await client()
      .chain('v3/pay/transactions/native')
      .post<any>(order({ description: '<script>alert(1)</script>' }));
    const res = await fetch(`${h.origin}/dev/wechatpay/scan?code_url=${encodeURIComponent(data.code_url)}`);
    const text = await res.text();
    assert.match(text, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.doesNotMatch(text, /<script>alert/);
    assert.match(text, /Development WeChat Pay: no real money moves/);
  });
});

describe('notifications', () => {
  test("WeChat Pay's schedule: 15s/15s/30s/3m/10m/20m/30m/30m/30m/60m/3h/3h/3h/6h/6h, 24h4m in all", () => {
    assert.equal(NOTIFY_RETRY_MS.length, 15);
    assert.equal(
      NOTIFY_RETRY_MS.reduce((a, b) => a + b, 0),
      (24 * 60 + 4) * 60_000,
    );
  });

  test('a notification the merchant answers 500 is sent again 15 s later on the clock, then delivered', async () => {
    const db = new Database(join(h.dataDir, 'dev-wechatpay.db'), { readonly: true });
    try {
      const pending = () => db.prepare(`SELECT count(*) AS c FROM wx_notifications WHERE state = 'pending'`).get();
      await eventually(() => assert.equal((pending() as { c: number }).c, 0));
      const before = (db.prepare('SELECT max(rowid) AS m FROM wx_notifications').get() as { m: number | null }).m ?? 0;
      h.forced.push(500);
      const o = order();
      const { data } = await client().chain('v3/pay/transactions/native').post<any>(o);
      await postForm(`${h.origin}/dev/wechatpay/scan`, { code_url: data.code_url });
      const row = () =>
        db.prepare('SELECT * FROM wx_notifications WHERE rowid > ? ORDER BY rowid LIMIT 1').get(before) as {
          attempts: number;
          state: string;
          next_at: number;
          last_status: number;
        };
      const first = await eventually(() => {
        const r = row();
        assert.deepEqual([r.attempts, r.state, r.last_status], [1, 'pending', 500]);
        return r;
      });
      assert.equal(first.next_at, h.clock.now().getTime() + 15_000);
      assert.equal(
        h.verdicts.some((v) => v.ok && v.event.type === 'trade.paid' && v.event.paid.outTradeNo === o.out_trade_no),
        false,
      );
      h.clock.advance(15_000);
      await h.event('trade.paid', (e) => e.paid.outTradeNo === o.out_trade_no);
      await eventually(() => assert.deepEqual([row().attempts, row().state], [2, 'delivered']));
    } finally {
      db.close();
    }
  });
});

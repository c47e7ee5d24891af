/**
 * The WeChat Pay rail against the development WeChat Pay over real HTTP: the unchanged plugin signs the
 * rail's requests and verifies the gateway's answers; notifications arrive at a receiver that hands the
 * raw bytes to the rail.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { notificationBody, signedHeaders } from '../../../dev-rails/wechatpay/protocol.ts';
import { eventually } from '../../../../test/support/eventually.ts';
import {
  postForm,
  railOptionsFor,
  startDevWechatpay,
  startPayAndSign,
  type DevWechatpayHarness,
} from '../../../../test/support/dev-wechatpay.ts';
import { createWechatpayRail } from './wechatpay-rail.ts';
import { shanghaiDay, toWechatTime } from './wire.ts';

let h: DevWechatpayHarness;
let n = 0;
const no = (p: string) => `${p}_${process.pid}_${Date.now() % 1e8}_${++n}`;
const terms = (amountMinor: number, outTradeNo = no('T')) => ({
  outTradeNo,
  amountMinor,
  currency: 'CNY' as const,
  subject: '电影《测试》 Film',
  expiresAt: new Date(h.clock.now().getTime() + 15 * 60_000),
});

before(async () => {
  h = await startDevWechatpay();
});
after(async () => {
  await h.close();
});

describe('native (scan on the TV)', () => {
  test('code_url → the scan page pays → the notification verifies, decrypts to trade.paid → query: paid', async () => {
    const t = terms(300);
    const start = await h.rail.start({ ...t, kind: 'qr' });
    assert.equal(start.state, 'qr');
    const qr = start.state === 'qr' ? start.qrText : '';
    assert.match(qr, /^weixin:\/\/wxpay\/bizpayurl\?pr=/);
    assert.deepEqual(await h.rail.query(t.outTradeNo), { state: 'pending' });
    const page = await fetch(`${h.origin}/dev/wechatpay/scan?code_url=${encodeURIComponent(qr)}`);
    const text = await page.text();
    assert.match(text, /开发用微信支付 — 不会有真实资金流动 \/ Development WeChat Pay: no real money moves/);
    assert.match(text, /¥3\.00/);
    assert.equal((await postForm(`${h.origin}/dev/wechatpay/scan`, { code_url: qr })).status, 200);
    const event = await h.event('trade.paid', (e) => e.paid.outTradeNo === t.outTradeNo);
    assert.equal(event.paid.amountMinor, 300);
    const q = await h.rail.query(t.outTradeNo);
    assert.equal(q.state, 'paid');
    assert.equal(q.state === 'paid' && q.paid.providerTradeNo, event.paid.providerTradeNo);
  });

  test('the same out_trade_no with the same terms gives the same code; with other terms it is refused', async () => {
    const t = terms(300);
    const a = await h.rail.start({ ...t, kind: 'qr' });
    const b = await h.rail.start({ ...t, kind: 'qr' });
    assert.deepEqual(a, b);
    const other = await h.rail.start({ ...t, amountMinor: 301, kind: 'qr' });
    assert.deepEqual(other.state === 'failed' && [other.code, other.providerCode], [
      'RAIL_REFUSED',
      'OUT_TRADE_NO_USED',
    ]);
  });

  test('an unknown trade is not_found; closing an open one closes it, a paid one answers paid', async () => {
    assert.deepEqual(await h.rail.query(no('NEVER')), { state: 'not_found' });
    const open = terms(100);
    await h.rail.start({ ...open, kind: 'qr' });
    assert.deepEqual(await h.rail.close(open.outTradeNo), { state: 'closed' });
    assert.deepEqual(await h.rail.query(open.outTradeNo), { state: 'closed' });
    assert.deepEqual(await h.rail.close(no('NEVER')), { state: 'closed' });
    const paid = terms(100);
    const s = await h.rail.start({ ...paid, kind: 'qr' });
    await postForm(`${h.origin}/dev/wechatpay/scan`, { code_url: s.state === 'qr' ? s.qrText : '' });
    assert.deepEqual(await h.rail.close(paid.outTradeNo), { state: 'paid' });
  });

  test('a trade past its time_expire can no longer be paid and queries as closed', async () => {
    const t = { ...terms(100), expiresAt: new Date(h.clock.now().getTime() + 60_000) };
    const s = await h.rail.start({ ...t, kind: 'qr' });
    h.clock.advance(61_000);
    const paid = await postForm(`${h.origin}/dev/wechatpay/scan`, { code_url: s.state === 'qr' ? s.qrText : '' });
    assert.equal(paid.status, 409);
    assert.deepEqual(await h.rail.query(t.outTradeNo), { state: 'closed' });
  });
});

describe('h5 (pay on the phone page) and papay', () => {
  test('h5_url carries the return URL; the cashier pays and goes back to it', async () => {
    const t = terms(500);
    const returnUrl = 'http://tvpay.test/pay/abc?x=1';
    const s = await h.rail.start({ ...t, kind: 'redirect', returnUrl, payerClientIp: '203.0.113.9' });
    assert.equal(s.state, 'redirect');
    const url = new URL(s.state === 'redirect' ? s.url : '');
    assert.equal(url.searchParams.get('redirect_url'), returnUrl);
    const page = await (await fetch(url)).text();
    assert.match(page, /¥5\.00/);
    assert.match(page, /支付 \/ Pay/);
    assert.doesNotMatch(page, /Pay and sign/);
    const res = await postForm(`${h.origin}/dev/wechatpay/cashier`, {
      prepay_id: url.searchParams.get('prepay_id')!,
      redirect_url: returnUrl,
      action: 'pay',
    });
    assert.deepEqual([res.status, res.headers.get('location')], [303, returnUrl]);
    await h.event('trade.paid', (e) => e.paid.outTradeNo === t.outTradeNo);
  });

  test('pay and sign → contract notification → papay apply charges, NOT_ENOUGH past the balance → unsign', async () => {
    const t = terms(500);
    const agreement = no('A').replace(/_/g, '');
    const returnUrl = 'http://tvpay.test/pay/back';
    const s = await startPayAndSign(h.rail, t, returnUrl, agreement);
    const url = new URL(s.state === 'redirect' ? s.url : '');
    const page = await (await fetch(url)).text();
    assert.match(page, /支付并签约 \/ Pay and sign \(138\*\*\*\*8000\)/);
    const res = await postForm(`${h.origin}/dev/wechatpay/cashier`, {
      prepay_id: url.searchParams.get('prepay_id')!,
      redirect_url: url.searchParams.get('redirect_url')!,
      action: 'pay_sign',
      balance_fen: '1000',
    });
    assert.deepEqual([res.status, res.headers.get('location')], [303, returnUrl]);
    await h.event('trade.paid', (e) => e.paid.outTradeNo === t.outTradeNo);
    const signed = await h.event('agreement.signed', (e) => e.externalAgreementNo === agreement);
    const charge = terms(600);
    assert.deepEqual(await h.rail.start({ ...charge, kind: 'agreement_charge', agreementNo: signed.agreementNo }), {
      state: 'charging',
    });
    const paid = await h.event('trade.paid', (e) => e.paid.outTradeNo === charge.outTradeNo);
    assert.equal(paid.paid.amountMinor, 600);
    assert.equal((await h.rail.query(charge.outTradeNo)).state, 'paid');
    const short = terms(401);
    const refused = await h.rail.start({ ...short, kind: 'agreement_charge', agreementNo: signed.agreementNo });
    assert.deepEqual(refused.state === 'failed' && [refused.code, refused.providerCode], [
      'INSUFFICIENT_FUNDS',
      'NOT_ENOUGH',
    ]);
    assert.deepEqual(await h.rail.query(short.outTradeNo), { state: 'not_found' });
    assert.deepEqual(await h.rail.unsign({ externalAgreementNo: agreement, agreementNo: signed.agreementNo }), {
      state: 'ended',
    });
    await h.event('agreement.ended', (e) => e.agreementNo === signed.agreementNo);
    const after = await h.rail.start({ ...terms(1), kind: 'agreement_charge', agreementNo: signed.agreementNo });
    assert.equal(after.state === 'failed' && after.providerCode, 'CONTRACT_NOT_EXIST');
  });
});

describe('refunds and the bill', () => {
  test('partial then full refund; one out_refund_no twice refunds once; queried, notified, billed', async () => {
    const t = terms(300);
    const s = await h.rail.start({ ...t, kind: 'qr' });
    await postForm(`${h.origin}/dev/wechatpay/scan`, { code_url: s.state === 'qr' ? s.qrText : '' });
    const paid = await h.event('trade.paid', (e) => e.paid.outTradeNo === t.outTradeNo);
    const first = {
      outTradeNo: t.outTradeNo,
      outRefundNo: no('R'),
      refundMinor: 100,
      totalMinor: 300,
      reason: 'partial',
    };
    assert.deepEqual(await h.rail.refund(first), { state: 'pending' });
    const again = await h.rail.refund(first);
    assert.ok(
      again.state === 'pending' || again.state === 'succeeded',
      "again.state === 'pending' || again.state === 'succeeded'",
    );
    const done = await eventually(async () => {
      const r = await h.rail.queryRefund(t.outTradeNo, first.outRefundNo);
      assert.equal(r.state, 'succeeded');
      return r;
    });
    assert.equal(done.state === 'succeeded' && typeof done.providerRefundNo, 'string');
    const ev = await h.event('refund.succeeded', (e) => e.outRefundNo === first.outRefundNo);
    assert.equal(ev.refundMinor, 100);
    assert.deepEqual(await h.rail.refund(first), done);
    assert.equal((await h.rail.query(t.outTradeNo)).state, 'paid');
    const over = await h.rail.refund({ ...first, outRefundNo: no('R'), refundMinor: 201 });
    assert.deepEqual(over.state === 'failed' && over.code, 'RAIL_REFUSED');
    const rest = { ...first, outRefundNo: no('R'), refundMinor: 200, reason: 'rest' };
    await h.rail.refund(rest);
    await h.event('refund.succeeded', (e) => e.outRefundNo === rest.outRefundNo);
    // REFUND does not say whether all of it went back: the trade reads as paid, the refunds as their own.
    assert.equal((await h.rail.query(t.outTradeNo)).state, 'paid');
    const unknownRefund = await h.rail.queryRefund(t.outTradeNo, no('R'));
    assert.equal(unknownRefund.state, 'failed');

    const day = shanghaiDay(h.clock.now());
    assert.deepEqual(await h.rail.bill(day), { state: 'unavailable', reason: 'NO_STATEMENT_EXIST' });
    h.clock.advance(86_400_000);
    const bill = await h.rail.bill(day);
    assert.equal(bill.state, 'ok');
    const lines = bill.state === 'ok' ? bill.lines.filter((l) => l.outTradeNo === t.outTradeNo) : [];
    assert.deepEqual(
      lines.map((l) => [l.kind, l.amountMinor, l.outRefundNo ?? '', l.providerTradeNo]),
      [
        ['payment', 300, '', paid.paid.providerTradeNo],
        ['refund', 100, first.outRefundNo, paid.paid.providerTradeNo],
        ['refund', 200, rest.outRefundNo, paid.paid.providerTradeNo],
      ],
    );
  });
});

describe('refusals', () => {
  test('an answer changed after WeChat Pay signed it is rejected by the plugin: unknown, never believed', async () => {
    h.tamper.fn = (body) => body.replace('bizpayurl?pr=', 'bizpayurl?pr=EVIL');
    try {
      const s = await h.rail.start({ ...terms(100), kind: 'qr' });
      assert.equal(s.state, 'unknown');
    } finally {
      h.tamper.fn = undefined;
    }
  });

  test('a request signed with another key is refused by the gateway with 401 SIGN_ERROR', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    const rail = createWechatpayRail({ ...railOptionsFor(h.keys, h.origin, h.clock), privateKeyPem: String(other) });
    const s = await rail.start({ ...terms(100), kind: 'qr' });
    assert.deepEqual(s.state === 'failed' && [s.code, s.providerCode], ['RAIL_REFUSED', 'SIGN_ERROR']);
  });

  test('a wrong appid or mchid in the request is refused as WeChat Pay does', async () => {
    const wrongApp = createWechatpayRail({ ...railOptionsFor(h.keys, h.origin, h.clock), appId: 'wx0000000000000000' });
    const a = await wrongApp.start({ ...terms(100), kind: 'qr' });
    assert.equal(a.state === 'failed' && a.providerCode, 'APPID_MCHID_NOT_MATCH');
    const wrongMch = createWechatpayRail({ ...railOptionsFor(h.keys, h.origin, h.clock), mchId: '1900000000' });
    const m = await wrongMch.start({ ...terms(100), kind: 'qr' });
    assert.equal(m.state === 'failed' && m.providerCode, 'MCH_NOT_EXISTS');
  });

  function forged(eventType: string, resource: object, at: Date) {
    const body = notificationBody(h.keys, {
      id: 'EV-forged',
      createTime: toWechatTime(at),
      eventType,
      summary: 'x',
      originalType: 'transaction',
      resource,
    });
    const headers = Object.fromEntries(
      Object.entries(signedHeaders(body, h.keys, Math.floor(at.getTime() / 1000))).map(([k, v]) => [
        k.toLowerCase(),
        v,
      ]),
    );
    return { headers, body: Buffer.from(body) };
  }
  const tx = () => ({
    mchid: h.keys.mchId,
    appid: h.keys.appId,
    out_trade_no: no('T'),
    transaction_id: '4200000000000001',
    trade_state: 'SUCCESS',
    success_time: toWechatTime(h.clock.now()),
    amount: { total: 100 },
  });

  test('notifications: tampered, stale (> 5 min) or for another mchid/appid are refused and answered 4xx', async () => {
    const good = forged('TRANSACTION.SUCCESS', tx(), h.clock.now());
    assert.equal((await h.rail.parseNotification(good)).ok, true);
    const tampered = { ...good, body: Buffer.from(good.body.toString().replace('EV-forged', 'EV-forgeD')) };
    const t = await h.rail.parseNotification(tampered);
    assert.deepEqual([t.ok, t.answer.status], [false, 401]);
    const stale = await h.rail.parseNotification(
      forged('TRANSACTION.SUCCESS', tx(), new Date(h.clock.now().getTime() - 301_000)),
    );
    assert.deepEqual([stale.ok, stale.answer.status], [false, 400]);
    for (const other of [{ mchid: '1900000000' }, { appid: 'wx0000000000000000' }]) {
      const v = await h.rail.parseNotification(forged('TRANSACTION.SUCCESS', { ...tx(), ...other }, h.clock.now()));
      assert.deepEqual([v.ok, v.answer.status], [false, 400]);
    }
  });

  test('a time-out, a 5xx and an answer above 64 KiB are unknown: the outcome was not learnt', async () => {
    const servers: Server[] = [];
    const serve = async (handler: Parameters<typeof createServer>[1]) => {
      const server = createServer(handler);
      servers.push(server);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      const { port } = server.address() as { port: number };
      return createWechatpayRail({
        ...railOptionsFor(h.keys, h.origin, h.clock),
        baseUrl: `http://127.0.0.1:${port}/`,
        timeoutMs: 300,
      });
    };
    try {
      const silent = await serve(() => {});
      assert.equal((await silent.start({ ...terms(100), kind: 'qr' })).state, 'unknown');
      assert.equal((await silent.query(no('T'))).state, 'unknown');
      const failing = await serve((_req, res) => res.writeHead(503, { 'content-type': 'application/json' }).end('{}'));
      assert.equal(
        (
          await failing.refund({
            outTradeNo: no('T'),
            outRefundNo: no('R'),
            refundMinor: 1,
            totalMinor: 1,
            reason: 'r',
          })
        ).state,
        'unknown',
      );
      // Signed as WeChat Pay would sign it: only the size limit stands between it and being believed.
      const big = `{"code_url":"weixin://wxpay/bizpayurl?pr=${'x'.repeat(70_000)}"}`;
      const huge = await serve((_req, res) =>
        res
          .writeHead(200, {
            'content-type': 'application/json',
            ...signedHeaders(big, h.keys, Math.floor(Date.now() / 1000)),
          })
          .end(big),
      );
      assert.equal((await huge.start({ ...terms(100), kind: 'qr' })).state, 'unknown');
    } finally {
      for (const s of servers) s.closeAllConnections();
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    }
  });
});

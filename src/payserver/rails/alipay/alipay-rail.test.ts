import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { generateKeyPairSync } from 'node:crypto';
import { AlipaySdk } from 'alipay-sdk';
import { freePorts } from '../../../../test/support/ports.ts';
import { ManualClock } from '../../../lib/clock.ts';
import { createLogger } from '../../../lib/log.ts';
import type { DevAlipay } from '../../../dev-rails/alipay/index.ts';
import { startDevAlipay, type DevAlipayHarness } from '../../../../test/support/dev-alipay.ts';
import { RETRY_AFTER_MS } from '../../../dev-rails/alipay/notifier.ts';
import { signedParams } from '../../../dev-rails/alipay/signing.ts';
import type { NotificationVerdict, Rail, StartRequest } from '../rail.ts';
import { beijingTime } from './amounts.ts';
import { createAlipayRail, type AlipayRailOptions } from './alipay-rail.ts';

/**
 * The Alipay rail against the development Alipay over real HTTP: the gateway mounted on a tvpay app (as
 * on the development carrier's server), the merchant's notify endpoint a plain HTTP server that hands
 * each raw notification to the rail and answers with its verdict.
 */
/** An RSA key pair that is not the one Alipay or the merchant signs with, its private key in this format. */
const otherKeys = (privateFormat: 'pkcs1' | 'pkcs8') =>
  generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: privateFormat, format: 'pem' },
  });

describe('the Alipay rail against the development Alipay', () => {
  const clock = new ManualClock(Date.now());
  const log = createLogger('silent');
  let gateway: DevAlipayHarness;
  let dev: DevAlipay;
  const verdicts: NotificationVerdict[] = [];
  let base: string;
  let merchant: Server;
  let rail: Rail;
  let options: AlipayRailOptions;
  let merchantAnswers: string | undefined; // forces the merchant's answer body (e.g. 'fail')

  before(async () => {
    gateway = await startDevAlipay({ clock, log, dirPrefix: 'tvpay-alipay-' });
    ({ dev, base } = gateway);
    const [merchantPort] = await freePorts(1);
    merchant = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void rail.parseNotification({ headers: req.headers, body: Buffer.concat(chunks) }).then((v) => {
          verdicts.push(v);
          res
            .writeHead(v.answer.status, { 'content-type': v.answer.contentType })
            .end(merchantAnswers ?? v.answer.body);
        });
      });
    });
    await new Promise<void>((r) => merchant.listen(merchantPort, '127.0.0.1', r));
    options = {
      mode: 'dev',
      appId: dev.keys.appId,
      privateKeyPem: dev.keys.appPrivateKeyPem,
      alipayPublicKeyPem: dev.keys.alipayPublicKeyPem,
      gateway: dev.keys.gateway,
      notifyUrl: `http://127.0.0.1:${merchantPort}/v1/rails/alipay/notify`,
      clock,
    };
    rail = createAlipayRail(options);
  });

  after(async () => {
    await new Promise((r) => merchant.close(r));
    await gateway.close();
  });

  /** Asks for a refund twice (the second asking is the same refund) and finds it succeeded when queried. */
  const refundsOnce = async (refund: Parameters<Rail['refund']>[0]) => {
    assert.equal((await rail.refund(refund)).state, 'succeeded');
    assert.equal((await rail.refund(refund)).state, 'succeeded', 'asked again, the same refund');
    assert.equal((await rail.queryRefund(refund.outTradeNo, refund.outRefundNo)).state, 'succeeded');
  };

  let n = 0;
  const terms = (amountMinor: number, minutes = 30) => ({
    outTradeNo: `T${Date.now()}_${++n}`,
    amountMinor,
    currency: 'CNY' as const,
    subject: '电影《流浪地球》 <HD>',
    expiresAt: new Date(clock.now().getTime() + minutes * 60_000),
  });

  /** Delivers what is due and answers the verdicts that arrived meanwhile. */
  async function deliver(): Promise<NotificationVerdict[]> {
    const from = verdicts.length;
    await dev.deliverNotifications();
    return verdicts.slice(from);
  }

  async function scanAndPay(qrText: string): Promise<string> {
    const page = await fetch(`${base}/dev/alipay/scan?qr=${encodeURIComponent(qrText)}`);
    const text = await page.text();
    assert.equal(page.status, 200);
    const paid = await fetch(`${base}/dev/alipay/scan`, { method: 'POST', body: new URLSearchParams({ qr: qrText }) });
    assert.equal(paid.status, 200, await paid.clone().text());
    return text;
  }

  async function paidByQr(amountMinor: number) {
    const t = terms(amountMinor);
    const started = await rail.start({ ...t, kind: 'qr' });
    assert.equal(started.state, 'qr');
    await scanAndPay((started as { qrText: string }).qrText);
    await deliver();
    return t;
  }

  it('precreates a QR the scan page pays, and the signed notification verifies as trade.paid', async () => {
    const t = terms(20000);
    const started = await rail.start({ ...t, kind: 'qr' });
    assert.equal(started.state, 'qr');
    const qrText = (started as { qrText: string }).qrText;
    assert.match(qrText, /^https:\/\/qr\.alipay\.com\/bax0[a-z0-9]+$/);
    assert.deepEqual(await rail.query(t.outTradeNo), { state: 'not_found' }, 'unscanned: Alipay knows no trade yet');
    const page = await scanAndPay(qrText);
    assert.match(page, /开发用支付宝 — 不会有真实资金流动/);
    assert.match(page, /¥200\.00/);
    assert.match(page, /&lt;HD&gt;/, 'the subject is escaped');
    const [v] = await deliver();
    assert.ok(v?.ok, v && !v.ok ? v.reason : 'no notification');
    assert.equal(v.answer.body, 'success');
    assert.equal(v.event.type, 'trade.paid');
    if (v.event.type !== 'trade.paid') return;
    assert.equal(v.event.paid.outTradeNo, t.outTradeNo);
    assert.equal(v.event.paid.amountMinor, 20000);
    const q = await rail.query(t.outTradeNo);
    assert.equal(q.state, 'paid');
    if (q.state === 'paid') assert.equal(q.paid.providerTradeNo, v.event.paid.providerTradeNo);
  });

  it('answers the same QR for the same terms again; refuses an out_trade_no reused with another amount', async () => {
    const t = terms(500);
    const first = await rail.start({ ...t, kind: 'qr' });
    assert.deepEqual(await rail.start({ ...t, kind: 'qr' }), first);
    const other = await rail.start({ ...t, amountMinor: 501, kind: 'qr' });
    assert.equal(other.state, 'failed');
    if (other.state === 'failed')
      assert.deepEqual([other.code, other.providerCode], ['RAIL_REFUSED', 'ACQ.CONTEXT_INCONSISTENT']);
  });

  async function wapPay(amountMinor: number, sign?: { externalAgreementNo: string; phone: string }) {
    const t = terms(amountMinor);
    const request: StartRequest = {
      ...t,
      kind: 'redirect',
      returnUrl: 'https://tv.example/back?o=1',
      payerClientIp: '203.0.113.9',
      ...(sign ? { sign } : {}),
    };
    const started = await rail.start(request);
    assert.equal(started.state, 'redirect');
    const url = (started as { url: string }).url;
    assert.ok(url.startsWith(dev.keys.gateway), url);
    const toCashier = await fetch(url, { redirect: 'manual' });
    assert.equal(toCashier.status, 302, await toCashier.clone().text());
    const cashierUrl = new URL(toCashier.headers.get('location')!, base).toString();
    const cashier = await (await fetch(cashierUrl)).text();
    return { t, cashierUrl, cashier };
  }

  it('wap.pay redirects to a cashier whose Pay returns to return_url with params Alipay signed', async () => {
    const { t, cashierUrl, cashier } = await wapPay(1234);
    assert.match(cashier, /¥12\.34/);
    assert.match(cashier, /付款 \/ Pay/);
    assert.doesNotMatch(cashier, /pay_sign/, 'no agreement was asked for');
    const back = await fetch(cashierUrl, {
      method: 'POST',
      body: new URLSearchParams({ action: 'pay' }),
      redirect: 'manual',
    });
    assert.equal(back.status, 303);
    const ret = new URL(back.headers.get('location')!);
    assert.equal(ret.origin + ret.pathname, 'https://tv.example/back');
    const params = Object.fromEntries(ret.searchParams);
    assert.equal(params.o, '1', "return_url's own query is kept");
    delete params.o; // the merchant's own, not Alipay's
    assert.equal(params.out_trade_no, t.outTradeNo);
    assert.equal(params.total_amount, '12.34');
    const sdk = new AlipaySdk({
      appId: options.appId,
      privateKey: options.privateKeyPem,
      alipayPublicKey: options.alipayPublicKeyPem,
      keyType: 'PKCS8',
    });
    assert.ok(sdk.checkNotifySignV2(params), 'the return is signed by Alipay');
    assert.ok(!sdk.checkNotifySignV2({ ...params, total_amount: '0.01' }), 'and a changed one is not');
    const [v] = await deliver();
    assert.ok(
      v?.ok && v.event.type === 'trade.paid' && v.event.paid.amountMinor === 1234,
      "v?.ok && v.event.type === 'trade.paid' && v.event.paid.amountMinor === 1234",
    );
  });

  it('signs an agreement while paying, charges it, and refuses a charge the dev balance does not cover', async () => {
    const { cashierUrl, cashier } = await wapPay(100, { externalAgreementNo: 'EA1', phone: '+8613800138000' });
    assert.match(cashier, /付款并签约 \/ Pay and sign the agreement/);
    const back = await fetch(cashierUrl, {
      method: 'POST',
      body: new URLSearchParams({ action: 'pay_sign', balance: '1.50' }),
      redirect: 'manual',
    });
    assert.equal(back.status, 303);
    const events = (await deliver()).map((v) => (v.ok ? v.event : v.reason));
    const signed = events.find((e) => typeof e !== 'string' && e.type === 'agreement.signed');
    assert.ok(signed && typeof signed !== 'string' && signed.type === 'agreement.signed', JSON.stringify(events));
    assert.equal(signed.externalAgreementNo, 'EA1');
    assert.ok(
      events.some((e) => typeof e !== 'string' && e.type === 'trade.paid'),
      "events.some((e) => typeof e !== 'string' && e.type === 'trade.paid')",
    );
    const charge = terms(100);
    const paid = await rail.start({ ...charge, kind: 'agreement_charge', agreementNo: signed.agreementNo });
    assert.equal(paid.state, 'paid', JSON.stringify(paid));
    if (paid.state === 'paid')
      assert.deepEqual([paid.paid.outTradeNo, paid.paid.amountMinor], [charge.outTradeNo, 100]);
    const poor = await rail.start({ ...terms(100), kind: 'agreement_charge', agreementNo: signed.agreementNo });
    assert.deepEqual(poor.state === 'failed' && [poor.code, poor.providerCode], [
      'INSUFFICIENT_FUNDS',
      'ACQ.BUYER_BALANCE_NOT_ENOUGH',
    ]);
    assert.deepEqual(await rail.unsign({ externalAgreementNo: 'EA1', agreementNo: signed.agreementNo }), {
      state: 'ended',
    });
    assert.deepEqual(await rail.unsign({ externalAgreementNo: 'EA1', agreementNo: signed.agreementNo }), {
      state: 'ended',
    });
    const ended = (await deliver()).find((v) => v.ok && v.event.type === 'agreement.ended');
    assert.ok(ended, 'dut_user_unsign arrived');
    const after = await rail.start({ ...terms(1), kind: 'agreement_charge', agreementNo: signed.agreementNo });
    assert.deepEqual(after.state === 'failed' && after.providerCode, 'ACQ.AGREEMENT_INVALID');
  });

  it('closes an unpaid trade so its QR can no longer be paid, and says paid when closing a paid one', async () => {
    const t = terms(300);
    const started = await rail.start({ ...t, kind: 'qr' });
    assert.deepEqual(await rail.close(t.outTradeNo), { state: 'closed' });
    const qr = (started as { qrText: string }).qrText;
    const refused = await fetch(`${base}/dev/alipay/scan`, { method: 'POST', body: new URLSearchParams({ qr }) });
    assert.equal(refused.status, 409);
    assert.deepEqual(await rail.query(t.outTradeNo), { state: 'closed' });
    const paid = await paidByQr(301);
    assert.deepEqual(await rail.close(paid.outTradeNo), { state: 'paid' });
  });

  it('closes a trade at its time_expire and tells the merchant', async () => {
    const t = terms(700, 1);
    const started = await rail.start({ ...t, kind: 'qr' });
    await fetch(`${base}/dev/alipay/scan?qr=${encodeURIComponent((started as { qrText: string }).qrText)}`);
    assert.deepEqual(await rail.query(t.outTradeNo), { state: 'pending' });
    clock.advance(61_000);
    const closed = (await deliver()).find((v) => v.ok && v.event.type === 'trade.closed');
    assert.ok(
      closed?.ok && closed.event.type === 'trade.closed' && closed.event.outTradeNo === t.outTradeNo,
      "closed?.ok && closed.event.type === 'trade.closed' && closed.event.outTradeNo === t.outTradeNo",
    );
    assert.deepEqual(await rail.query(t.outTradeNo), { state: 'closed' });
  });

  it('refunds in part and in full, once per out_request_no however often it is asked', async () => {
    const t = await paidByQr(1000);
    const part = {
      outTradeNo: t.outTradeNo,
      outRefundNo: `${t.outTradeNo}_R1`,
      refundMinor: 300,
      totalMinor: 1000,
      reason: '测试',
    };
    await refundsOnce(part);
    const tooMuch = await rail.refund({ ...part, outRefundNo: `${t.outTradeNo}_R2`, refundMinor: 701 });
    assert.deepEqual(
      tooMuch.state === 'failed' && tooMuch.providerCode,
      'ACQ.REFUND_AMT_NOT_EQUAL_TOTAL',
      'only 700 is left',
    );
    assert.equal(
      (await rail.refund({ ...part, outRefundNo: `${t.outTradeNo}_R2`, refundMinor: 700 })).state,
      'succeeded',
    );
    const q = await rail.query(t.outTradeNo);
    assert.equal(q.state, 'refunded');
    const none = await rail.queryRefund(t.outTradeNo, 'NOPE');
    assert.deepEqual(none.state === 'failed' && none.providerCode, 'REFUND_NOT_FOUND');
  });

  it("refunds under a tvpay refund id with a '-' (base64url ids have one), not allowed in out_request_no", async () => {
    const t = await paidByQr(1000);
    const refund = {
      outTradeNo: t.outTradeNo,
      outRefundNo: 'rfd_late_pay_0Vd4XEfeKljiEX-C9HHp',
      refundMinor: 1000,
      totalMinor: 1000,
      reason: '测试',
    };
    await refundsOnce(refund);
    const other = await rail.queryRefund(t.outTradeNo, 'rfd_late_pay_0Vd4XEfeKljiEX_C9HHp');
    assert.equal(other.state, 'failed', "an id differing only by '-' for '_' is another refund");
    assert.equal((await rail.query(t.outTradeNo)).state, 'refunded');
  });

  it("downloads and parses the day's bill once the day is over", async () => {
    const t = await paidByQr(4321);
    await rail.refund({
      outTradeNo: t.outTradeNo,
      outRefundNo: 'BILLR1',
      refundMinor: 21,
      totalMinor: 4321,
      reason: 'r',
    });
    const day = beijingTime(clock.now()).slice(0, 10);
    const early = await rail.bill(day);
    assert.deepEqual(early, { state: 'unavailable', reason: 'isp.bill_not_exist' });
    clock.advance(86_400_000);
    const bill = await rail.bill(day);
    assert.equal(bill.state, 'ok', JSON.stringify(bill));
    if (bill.state !== 'ok') return;
    const mine = bill.lines.filter((l) => l.outTradeNo === t.outTradeNo);
    assert.deepEqual(
      mine.map((l) => [l.kind, l.amountMinor, l.outRefundNo]),
      [
        ['payment', 4321, undefined],
        ['refund', 21, 'BILLR1'],
      ],
    );
  });

  it('retries a notification on Alipay’s schedule until the answer is exactly success', async () => {
    merchantAnswers = 'ok';
    const t = terms(900);
    const started = await rail.start({ ...t, kind: 'qr' });
    await scanAndPay((started as { qrText: string }).qrText);
    assert.equal((await deliver()).length, 1);
    assert.equal((await deliver()).length, 0, 'not again before 4 minutes');
    merchantAnswers = undefined;
    clock.advance(RETRY_AFTER_MS[0]!);
    const [v] = await deliver();
    assert.ok(
      v?.ok && v.event.type === 'trade.paid' && v.event.paid.outTradeNo === t.outTradeNo,
      "v?.ok && v.event.type === 'trade.paid' && v.event.paid.outTradeNo === t.outTradeNo",
    );
    clock.advance(RETRY_AFTER_MS[1]!);
    assert.equal((await deliver()).length, 0, 'delivered: never again');
  });

  describe('refusals', () => {
    it('believes no answer whose signature is not Alipay’s: the outcome is unknown', async () => {
      const other = otherKeys('pkcs8');
      const fooled = createAlipayRail({ ...options, alipayPublicKeyPem: other.publicKey });
      const out = await fooled.start({ ...terms(100), kind: 'qr' });
      assert.equal(out.state, 'unknown');
      if (out.state === 'unknown') assert.match(out.reason, /signature did not verify/);
    });

    it('is refused by the gateway when its requests are signed with another key', async () => {
      const other = otherKeys('pkcs1');
      const forger = createAlipayRail({ ...options, privateKeyPem: other.privateKey });
      const out = await forger.start({ ...terms(100), kind: 'qr' });
      assert.deepEqual(out.state === 'failed' && [out.code, out.providerCode], [
        'RAIL_REFUSED',
        'isv.invalid-signature',
      ]);
      const stranger = createAlipayRail({ ...options, appId: '2021000000000001' });
      const out2 = await stranger.start({ ...terms(100), kind: 'qr' });
      assert.deepEqual(out2.state === 'failed' && out2.providerCode, 'isv.invalid-app-id');
    });

    const form = (params: Record<string, string>) => ({
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: Buffer.from(new URLSearchParams(params).toString()),
    });
    const notice = (fields: Record<string, string>) =>
      signedParams(
        {
          notify_time: beijingTime(clock.now()),
          notify_type: 'trade_status_sync',
          notify_id: 'n1',
          app_id: options.appId,
          charset: 'utf-8',
          version: '1.0',
          trade_no: '2026120622001400000000000001',
          out_trade_no: 'T1',
          trade_status: 'TRADE_SUCCESS',
          total_amount: '200.00',
          gmt_payment: beijingTime(clock.now()),
          ...fields,
        },
        (dev.keys as { alipayPrivateKeyPem: string }).alipayPrivateKeyPem,
      );

    it('refuses a tampered notification and answers fail', async () => {
      const v = await rail.parseNotification(form({ ...notice({}), total_amount: '0.01' }));
      assert.equal(v.ok, false);
      assert.equal(v.answer.body, 'fail');
      assert.match((v as { reason: string }).reason, /signature/);
    });

    it('refuses a genuinely signed notification for another app id', async () => {
      const v = await rail.parseNotification(form(notice({ app_id: '2021000000000009' })));
      assert.deepEqual([v.ok, (v as { reason: string }).reason], [false, 'app_id is not this merchant’s']);
    });

    it('leaves matching the amount to the caller: a signed notification says what Alipay says', async () => {
      const v = await rail.parseNotification(form(notice({ total_amount: '199.99' })));
      assert.ok(
        v.ok && v.event.type === 'trade.paid' && v.event.paid.amountMinor === 19999,
        "v.ok && v.event.type === 'trade.paid' && v.event.paid.amountMinor === 19999",
      );
    });

    it('refuses a notification that is not a form', async () => {
      const v = await rail.parseNotification({
        headers: { 'content-type': 'application/json' },
        body: Buffer.from('{}'),
      });
      assert.deepEqual([v.ok, v.answer.body], [false, 'fail']);
    });

    it('answers unknown when the gateway takes longer than the time-out', async () => {
      const hanging = createServer(() => {}); // takes the request and never answers
      const [port] = await freePorts(1);
      await new Promise<void>((r) => hanging.listen(port, '127.0.0.1', r));
      try {
        const slow = createAlipayRail({ ...options, gateway: `http://127.0.0.1:${port}/gateway.do`, timeoutMs: 300 });
        const out = await slow.start({ ...terms(1), kind: 'agreement_charge', agreementNo: 'A1' });
        assert.equal(out.state, 'unknown');
        assert.equal(
          (await slow.refund({ outTradeNo: 'T1', outRefundNo: 'R1', refundMinor: 1, totalMinor: 1, reason: 'r' }))
            .state,
          'unknown',
        );
      } finally {
        hanging.closeAllConnections();
        await new Promise((r) => hanging.close(r));
      }
    });

    it('reads at most 64 KiB of an answer: a gateway answering without end costs an unknown, not memory', async () => {
      let written = 0;
      const flood = createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(16 * 1024, 'x');
        const more = () => {
          while (written < 64 * 1024 * 1024 && !res.destroyed) {
            written += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', more);
          }
          res.end();
        };
        more();
      });
      const [port] = await freePorts(1);
      await new Promise<void>((r) => flood.listen(port, '127.0.0.1', r));
      try {
        const big = createAlipayRail({ ...options, gateway: `http://127.0.0.1:${port}/gateway.do`, timeoutMs: 30_000 });
        assert.equal((await big.query('T1')).state, 'unknown');
        // The kernel's socket buffers take a few MiB before the reader stops; without the cap all 64 MiB are read.
        assert.ok(written < 32 * 1024 * 1024, `the rail stopped reading early; the gateway wrote ${written} bytes`);
      } finally {
        flood.closeAllConnections();
        await new Promise((r) => flood.close(r));
      }
    });

    it('answers unknown when the gateway does not answer at all', async () => {
      const [port] = await freePorts(1);
      const gone = createAlipayRail({ ...options, gateway: `http://127.0.0.1:${port}/gateway.do`, timeoutMs: 2000 });
      assert.equal((await gone.query('T1')).state, 'unknown');
      assert.equal((await gone.start({ ...terms(1), kind: 'agreement_charge', agreementNo: 'A1' })).state, 'unknown');
    });
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { businessDate } from '../../src/lib/business-day.ts';
import { eventually } from '../support/eventually.ts';
import { orderStatus } from '../support/flows.ts';
import { atDevCashier, internal, openOrder, scan } from '../support/rails.ts';
import { lifted, suiteSystem } from '../support/system.ts';
import type { FastifyInstance } from 'fastify';
import { timelineLine, type TimelineItem } from '../../src/backend/console/timeline-view.ts';
import { money } from '../../src/lib/console/console-words.ts';

// Both rails are `dev` by default: the development Alipay and WeChat Pay on the carrier's server.
const sys = suiteSystem(lifted(['PAYER_PER_PHONE', 'CODES_PER_PHONE', 'ORDERS_PER_DEVICE']));

const form = (fields: Record<string, string>) => ({
  payload: new URLSearchParams(fields).toString(),
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
});
const db = () => sys.payserver.db;
const tradesOf = (orderId: string) =>
  db().selectFrom('rail_trades').selectAll().where('order_id', '=', orderId).orderBy('created_at').execute();

/** The payer scans the TV's code with the app and pays on the development gateway's scan page. */
async function payByScan(rail: 'alipay' | 'wechatpay', qrText: string) {
  const res = await sys.carrier.app.inject({
    method: 'POST',
    url: rail === 'alipay' ? '/dev/alipay/scan' : '/dev/wechatpay/scan',
    ...form(rail === 'alipay' ? { qr: qrText } : { code_url: qrText }),
  });
  assert.equal(res.statusCode, 200, res.body);
}

/**
 * The order's timeline shows its Alipay trade's pre-order and notification as their own lines, in order, in
 * words in both languages, and nothing that signs or is signed.
 */
async function assertRailTimeline(orderId: string, outTradeNo: string, providerTradeNo: string) {
  const res = await sys.backendAdmin('GET', `/admin/v1/orders/${orderId}/timeline`);
  assert.equal(res.statusCode, 200, res.body);
  assert.doesNotMatch(res.body, /sign=|BEGIN [A-Z ]*KEY|PRIVATE KEY|"sign"|signature|qr_code|app_cert/i);
  const entries = res.json() as TimelineItem[];
  const rail = entries.filter((e) => e.kind === 'rail');
  assert.deepEqual(
    rail.slice(0, 2).map((e) => [e.call, e.outcome]),
    [
      ['start', 'qr'],
      ['notification', 'paid'],
    ],
  );
  assert.ok(
    rail.every((e) => e.rail === 'alipay' && e.outTradeNo === outTradeNo),
    "rail.every((e) => e.rail === 'alipay' && e.outTradeNo === outTradeNo)",
  );
  assert.equal(rail[1]!.providerTradeNo, providerTradeNo);
  assert.deepEqual(
    rail.slice(0, 2).map((e) => timelineLine(e, 'zh-CN', 'CNY')),
    [
      { kind: '支付渠道', text: '支付宝 预下单 → 二维码' },
      { kind: '支付渠道', text: `支付宝 通知：已支付（交易号 ${providerTradeNo}）` },
    ],
  );
  assert.equal(timelineLine(rail[0]!, 'en', 'CNY').text, 'Alipay pre-order → QR code');
  assert.equal(timelineLine(rail[1]!, 'en', 'CNY').text, `Alipay notification: paid (trade ${providerTradeNo})`);
}

/** Signs into a console (as its own sign-in page posts) and reads its pages in a language, as a browser would. */
async function consoleOf(app: FastifyInstance, origin: string, cookieName: string) {
  const res = await app.inject({
    method: 'POST',
    url: '/console/sign-in',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
    payload: new URLSearchParams({ token: sys.secrets.adminToken }).toString(),
  });
  assert.equal(res.statusCode, 303, res.body);
  const cookie = `${cookieName}=${res.cookies.find((c) => c.name === cookieName)!.value}`;
  return async (url: string, lang: 'en' | 'zh-CN') => {
    const page = await app.inject({ url, headers: { cookie, 'accept-language': lang } });
    assert.equal(page.statusCode, 200, `${url}: ${page.body.slice(0, 200)}`);
    return page.body;
  };
}

const SECRETS = /sign=|BEGIN [A-Z ]*KEY|PRIVATE KEY|signature/i;

describe('money rails through the development gateways', () => {
  it('starts with both development rails on, and says so', async () => {
    const res = await internal(sys, 'GET', '/internal/v1/rails');
    assert.deepEqual(
      res.json().map((r: { rail: string }) => r.rail),
      ['alipay', 'wechatpay'],
    );
    assert.ok(
      sys.system.banner.some((l) => /no real money moves/.test(l)),
      'sys.system.banner.some((l) => /no real money moves/.test(l))',
    );
  });

  for (const rail of ['alipay', 'wechatpay'] as const) {
    it(`pays an order once by ${rail} scan: the dev ${rail} notifies, the order is paid and fulfilled`, async () => {
      const { tv, orderId } = await openOrder(sys);
      const first = await scan(sys, orderId, rail);
      assert.equal(first.statusCode, 200, first.body);
      assert.equal((await scan(sys, orderId, rail)).json().qrText, first.json().qrText);
      await payByScan(rail, first.json().qrText);
      await orderStatus(sys, orderId, 'fulfilled', tv);
      const [trade] = await tradesOf(orderId);
      assert.equal(trade?.state, 'paid');
      const payment = await db()
        .selectFrom('payments')
        .selectAll()
        .where('id', '=', trade!.payment_id)
        .executeTakeFirstOrThrow();
      assert.deepEqual([payment.status, payment.source, payment.method], ['captured', rail, 'scan']);
      const log = await db()
        .selectFrom('rail_trade_log')
        .select('what')
        .where('out_trade_no', '=', trade!.out_trade_no)
        .execute();
      assert.ok(
        log.some((l) => l.what === 'notification'),
        'settled by the notification',
      );
      await sys.walk.assertLedgerSound();
      if (rail === 'alipay') await assertRailTimeline(orderId, trade!.out_trade_no, trade!.provider_trade_no!);
      const listed = (await sys.payAdmin('GET', `/admin/v1/payments?source=${rail}`)).json() as Array<{
        paymentId: string;
        source: string;
        railTrade: { rail: string; providerTradeNo: string | null } | null;
      }>;
      assert.ok(
        listed.length > 0 && listed.every((p) => p.source === rail && p.railTrade?.rail === rail),
        'listed.length > 0 && listed.every((p) => p.source === rail && p.railTrade?.rail === rail)',
      );
      assert.equal(
        listed.find((p) => p.paymentId === payment.id)?.railTrade?.providerTradeNo,
        trade!.provider_trade_no,
      );
    });
  }

  it("shows an Alipay scan payment in both consoles: the order's rail lines, rail and trade number; payments by rail; the Rails page", async () => {
    const { tv, orderId } = await openOrder(sys);
    await payByScan('alipay', (await scan(sys, orderId, 'alipay')).json().qrText);
    await orderStatus(sys, orderId, 'fulfilled', tv);
    const [trade] = await tradesOf(orderId);
    const providerNo = trade!.provider_trade_no!;
    const backend = await consoleOf(sys.backend.app, sys.config.publicUrls.backend, 'tvpay_backend_console');
    const zh = await backend(`/console/orders/${orderId}`, 'zh-CN');
    const en = await backend(`/console/orders/${orderId}`, 'en');
    for (const [page, lines] of [
      [zh, ['支付宝 预下单 → 二维码', `支付宝 通知：已支付（交易号 ${providerNo}）`]],
      [en, ['Alipay pre-order → QR code', `Alipay notification: paid (trade ${providerNo})`]],
    ] as const) {
      const timeline = page.slice(page.indexOf('aria-label="Timeline"'));
      const at = lines.map((l) => timeline.indexOf(l));
      assert.ok(at[0]! >= 0 && at[1]! > at[0]!, `the rail lines in order: ${lines.join(' / ')}`);
      assert.doesNotMatch(page, SECRETS);
    }
    assert.match(zh, new RegExp(`data-testid="rail">支付宝<`));
    assert.match(en, new RegExp(`data-testid="rail-trade">${providerNo} `));
    const pay = await consoleOf(sys.payserver.app, sys.config.publicUrls.payserver, 'tvpay_payserver_console');
    const byAlipay = await pay('/console/payments?source=alipay', 'zh-CN');
    assert.match(byAlipay, new RegExp(`data-testid="provider-trade-no">${providerNo}<`));
    assert.doesNotMatch(await pay('/console/payments?source=wechatpay', 'zh-CN'), new RegExp(trade!.payment_id));
    // A day whose bill the rails have made (today's exists only once the day has ended): the day before.
    const yesterday = businessDate(new Date(sys.clock.now().getTime() - 86_400_000), sys.config.businessTimeZone);
    const railsPage = await pay(`/console/rails?date=${yesterday}`, 'en');
    const alipay = railsPage.slice(railsPage.indexOf('data-testid="rail-alipay"'));
    const clearing = (await sys.payAdmin('GET', '/admin/v1/rails')).json()[0].clearing[0];
    assert.ok(clearing.balanceMinor <= -Number(trade!.amount_minor), 'the rail holds at least this payment');
    assert.ok(alipay.includes(money(-clearing.balanceMinor, 'CNY')), 'the clearing balance, in yuan');
    assert.match(alipay, /data-testid="reconciliation"/);
  });

  it("links the development phone page to each rail's scan page, which opens the code the TV shows", async () => {
    const { orderId } = await openOrder(sys);
    const phone = await sys.carrier.app.inject({ url: '/dev/phones/8613800138000' });
    assert.equal(phone.statusCode, 200);
    assert.match(phone.body, /<form class="scan" method="get" action="\/dev\/alipay\/scan">/);
    assert.match(phone.body, /<form class="scan" method="get" action="\/dev\/wechatpay\/scan">/);
    for (const [rail, field] of [
      ['alipay', 'qr'],
      ['wechatpay', 'code_url'],
    ] as const) {
      const qrText = (await scan(sys, orderId, rail)).json().qrText as string;
      const opened = await sys.carrier.app.inject({ url: `/dev/${rail}/scan?${field}=${encodeURIComponent(qrText)}` });
      assert.equal(opened.statusCode, 200, opened.body);
      assert.match(opened.body, /no real money/i, `the ${rail} scan page says no real money moves`);
      const unknown = await sys.carrier.app.inject({
        url: `/dev/${rail}/scan?${field}=${encodeURIComponent(qrText + 'x')}`,
      });
      assert.equal(unknown.statusCode, 404, `a code the ${rail} never made is refused`);
    }
  });

  it('refunds an Alipay scan payment in full through the development Alipay', async () => {
    const { tv, orderId } = await openOrder(sys);
    await payByScan('alipay', (await scan(sys, orderId, 'alipay')).json().qrText);
    const order = await orderStatus(sys, orderId, 'fulfilled', tv);
    const res = await sys.backendAdmin(
      'POST',
      `/admin/v1/orders/${orderId}/refunds`,
      { amountMinor: order.amountMinor, reason: 'test' },
      { 'idempotency-key': `k-${orderId}` },
    );
    assert.ok(res.statusCode < 300, res.body);
    await eventually(async () => {
      const [refund] = await db().selectFrom('refunds').selectAll().where('order_id', '=', orderId).execute();
      const [trade] = await tradesOf(orderId);
      // What was asked of the rail and what it said, to read when this fails.
      const log = await db()
        .selectFrom('rail_trade_log')
        .select(['what', 'outcome'])
        .where('out_trade_no', '=', trade!.out_trade_no)
        .execute();
      assert.equal(refund?.status, 'succeeded', JSON.stringify(log));
    }, 40_000);
    const [trade] = await tradesOf(orderId);
    const payment = await db()
      .selectFrom('payments')
      .selectAll()
      .where('id', '=', trade!.payment_id)
      .executeTakeFirstOrThrow();
    assert.equal(payment.status, 'refunded');
    await sys.walk.assertLedgerSound();
  });

  it('closes the open WeChat Pay trade of an order that ends', async () => {
    const { orderId } = await openOrder(sys);
    assert.equal((await scan(sys, orderId, 'wechatpay')).statusCode, 200);
    assert.equal((await internal(sys, 'POST', `/internal/v1/orders/${orderId}/close`, {})).statusCode, 200);
    await eventually(async () => assert.equal((await tradesOf(orderId))[0]?.state, 'closed'));
  });

  for (const rail of ['alipay', 'wechatpay'] as const) {
    it(`pays on the checkout page by ${rail}: a POST form redirects to its cashier, coming back says paid`, async () => {
      const tv = await sys.walk.newTv(`page-${rail}-${Math.random().toString(36).slice(2, 6)}`);
      const orderId = (await tv('POST', '/v1/orders', { productId: 'vip-month' })).json().orderId as string;
      const payer = (await tv('POST', `/v1/orders/${orderId}/payer`, { phone: '13600136000' })).json();
      const token = String(payer.payUrl).split('/pay/')[1]!;
      const pageHtml = (await sys.payserver.app.inject({ url: `/pay/${token}?lang=en` })).body;
      assert.match(pageHtml, new RegExp(`data-rail="${rail}"`));
      assert.match(pageHtml, /no real money moves/);
      const go = await sys.payserver.app.inject({
        method: 'POST',
        url: `/pay/${token}/rail?lang=en`,
        ...form({ rail }),
      });
      assert.equal(go.statusCode, 303, go.body);
      const back = await atDevCashier(sys, rail, go.headers.location!, { action: 'pay' });
      assert.match(back, new RegExp(`/pay/${token}/return`));
      const returned = await sys.payserver.app.inject({ url: new URL(back).pathname + new URL(back).search });
      assert.equal(returned.statusCode, 303);
      await eventually(async () => {
        const page = (await sys.payserver.app.inject({ url: `/pay/${token}?lang=en` })).body;
        assert.match(page, /data-outcome="paid"/);
      });
      await orderStatus(sys, orderId, 'fulfilled', tv);
      const [trade] = await tradesOf(orderId);
      assert.deepEqual([trade?.kind, trade?.state], ['redirect', 'paid']);
    });
  }

  it('pays an order no payer was named for, by the TV showing the WeChat Pay code (back-end to payment server to rail)', async () => {
    const tv = await sys.walk.newTv(`scan-${Math.random().toString(36).slice(2, 6)}`);
    const orderId = (await tv('POST', '/v1/orders', { productId: 'vip-month' })).json().orderId as string;
    const shown = await tv('POST', `/v1/orders/${orderId}/scan`, { rail: 'wechatpay' });
    assert.equal(shown.statusCode, 200, shown.body);
    const rails = await tv('GET', '/v1/rails');
    assert.deepEqual(
      rails.json().map((r: { rail: string }) => r.rail),
      ['alipay', 'wechatpay'],
    );
    await payByScan('wechatpay', shown.json().qrText);
    const order = await orderStatus(sys, orderId, 'fulfilled', tv);
    assert.equal(order.paidWith, 'wechatpay');
    const c = await db().selectFrom('checkouts').selectAll().where('order_id', '=', orderId).executeTakeFirstOrThrow();
    assert.deepEqual([c.status, c.phone], ['paid', '']);
  });

  it("reconciles a day's Alipay bill against what tvpay settled through Alipay that day", async () => {
    const { tv, orderId } = await openOrder(sys);
    await payByScan('alipay', (await scan(sys, orderId, 'alipay')).json().qrText);
    await orderStatus(sys, orderId, 'fulfilled', tv);
    const [trade] = await tradesOf(orderId);
    const day = businessDate(sys.clock.now(), sys.config.businessTimeZone);
    // Alipay makes a day's bill once the day is over.
    await sys.advance(24 * 3600 * 1000);
    const res = await sys.payAdmin('GET', `/admin/v1/rails/alipay/reconciliations/${day}`);
    assert.equal(res.status, 200, res.text);
    const r = res.json();
    assert.equal(r.date, day);
    type Line = { kind: string; outTradeNo: string; railAmountMinor?: number; tvpayAmountMinor?: number };
    assert.deepEqual(
      r.matched
        .filter((l: Line) => l.outTradeNo === trade!.out_trade_no)
        .map((l: Line) => [l.kind, l.railAmountMinor, l.tvpayAmountMinor]),
      [['payment', Number(trade!.amount_minor), Number(trade!.amount_minor)]],
    );
    assert.deepEqual([r.missingHere, r.amountMismatches], [[], []]);
    const off = await sys.payAdmin('GET', `/admin/v1/rails/unionpay/reconciliations/${day}`);
    assert.equal(off.status >= 400 && off.status < 500, true, off.text);
  });
});

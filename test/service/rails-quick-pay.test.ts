import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventually } from '../support/eventually.ts';
import { createOrder, latestCode, newTv, orderStatus, smsCount } from '../support/flows.ts';
import { atDevCashier, internal } from '../support/rails.ts';
import { lifted, suiteSystem, type TestSystem } from '../support/system.ts';

/**
 * Quick pay through a rail's agreement (API "Real money rails"): signed on the checkout page after the
 * possession code, through the development Alipay and WeChat Pay; from then on the phone is bound, the code
 * SMS names the rail, the reply charges under the agreement, renewals are charged the same way, a refusal is
 * told to the TV and the phone, and an agreement that ends unbinds the phone.
 */
const DAY = 24 * 3600 * 1000;
const sys = suiteSystem({
  ...lifted(['PAYER_PER_PHONE', 'CODES_PER_PHONE', 'ORDERS_PER_DEVICE']),
  TVPAY_TEST_CLOCK: '1',
  TVPAY_ORDER_TTL_SECONDS: '3600',
});

type Rail = 'alipay' | 'wechatpay';
type Tv = ReturnType<TestSystem['as']>;
const RAIL_WORD: Record<Rail, RegExp> = { alipay: /支付宝/, wechatpay: /微信支付/ };
const db = () => sys.payserver.db;
const form = (fields: Record<string, string>, cookie?: string) => ({
  payload: new URLSearchParams(fields).toString(),
  headers: {
    'content-type': 'application/x-www-form-urlencoded',
    ...(cookie ? { cookie } : {}),
  },
});
const agreementsOf = (digits: string) =>
  db().selectFrom('rail_agreements').selectAll().where('phone', '=', `+${digits}`).orderBy('created_at').execute();
const tradesOf = (orderId: string) =>
  db().selectFrom('rail_trades').selectAll().where('order_id', '=', orderId).orderBy('created_at').execute();
const bound = async (digits: string) =>
  (await internal(sys, 'POST', '/internal/v1/bindings/lookup', { phone: `+${digits}` })).json().bound as boolean;

/** The payer on the rail's cashier chooses "pay and sign", with a development balance for later charges. */
const payAndSignAt = (rail: Rail, location: string, balanceFen: number) =>
  atDevCashier(sys, rail, location, { action: 'pay_sign', balanceFen });

/**
 * An unbound phone buys a renewing product on the checkout page: proves the number with its code, ticks
 * quick pay on the rail's form and pays and signs at the rail. Returns the TV, the order and the agreement.
 */
async function signOnPage(rail: Rail, digits: string, balanceFen = 100_000) {
  assert.equal(await bound(digits), false, 'the phone starts unbound');
  const tv = await newTv(sys, `qp-${rail}-${digits.slice(-4)}`);
  const orderId = await createOrder(sys, 'uhd-monthly', tv);
  const seen = await smsCount(sys, digits);
  const payer = await tv('POST', `/v1/orders/${orderId}/payer`, { phone: `+${digits}` });
  assert.equal(payer.json().channel, 'wap_link', payer.body);
  const token = String(payer.json().payUrl).split('/pay/')[1]!;
  const { checkout } = sys.payserver.services;
  const sessionId = await checkout.sendCode(token);
  const grant = await checkout.verify(token, sessionId, await latestCode(sys, digits, seen + 1));
  const cookie = `tvpay_pay_grant=${grant}`;
  const page = await sys.payserver.app.inject({ url: `/pay/${token}?lang=en`, headers: { cookie } });
  assert.match(page.body, new RegExp(`value="${rail}">(?:(?!</form>).)*name="quickPay"`, 's'), 'quick pay is offered');
  const go = await sys.payserver.app.inject({
    method: 'POST',
    url: `/pay/${token}/rail?lang=en`,
    ...form({ rail, quickPay: 'yes' }, cookie),
  });
  assert.equal(go.statusCode, 303, go.body);
  const back = new URL(await payAndSignAt(rail, go.headers.location!, balanceFen));
  assert.equal((await sys.payserver.app.inject({ url: back.pathname + back.search })).statusCode, 303);
  await orderStatus(sys, orderId, 'fulfilled', tv);
  const agreement = await eventually(async () => {
    const [a] = await agreementsOf(digits);
    assert.equal(a?.status, 'active', `the ${rail} agreement counts once its notification is verified`);
    return a!;
  });
  return { tv, orderId, agreement };
}

/** The payment server's console, signed in as its own sign-in page does: a request with its cookie (and origin). */
async function payserverConsole() {
  const origin = sys.config.publicUrls.payserver;
  const name = 'tvpay_payserver_console';
  const res = await sys.payserver.app.inject({
    method: 'POST',
    url: '/console/sign-in',
    ...form({ token: sys.secrets.adminToken }),
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
  });
  assert.equal(res.statusCode, 303, res.body);
  const cookie = `${name}=${res.cookies.find((c) => c.name === name)!.value}`;
  return (method: 'GET' | 'POST', url: string, fields?: Record<string, string>) =>
    sys.payserver.app.inject({
      method,
      url,
      ...(fields ? form(fields, cookie) : {}),
      headers: {
        cookie,
        origin,
        'accept-language': 'en',
        ...(fields ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
    });
}

/** A bound phone buys on the TV: the code SMS comes (naming what pays) and is replied. */
async function buyByCode(tv: Tv, digits: string, productId = 'kids-app') {
  const orderId = await createOrder(sys, productId, tv);
  const seen = await smsCount(sys, digits);
  const payer = await tv('POST', `/v1/orders/${orderId}/payer`, { phone: `+${digits}` });
  assert.equal(payer.json().channel, 'sms_confirm', payer.body);
  const code = await latestCode(sys, digits, seen);
  const codeSms = (await sys.carrier.carrier.inbox(digits)).at(-1)!.text;
  await sys.carrier.carrier.reply(digits, code);
  return { orderId, codeSms };
}

describe('quick pay through a rail agreement', () => {
  for (const [rail, digits] of [
    ['alipay', '8613700137001'],
    ['wechatpay', '8613700137002'],
  ] as const) {
    it(`signs a ${rail} agreement on the page after the code; then the code SMS names ${rail} and the reply charges under it`, async () => {
      const { tv, agreement } = await signOnPage(rail, digits);
      assert.match(agreement.external_agreement_no, /^[A-Za-z0-9]{1,32}$/);
      assert.ok(agreement.agreement_no, 'the rail gave its own number for the agreement');
      assert.equal(await bound(digits), true, 'an active agreement binds the phone');
      const { orderId, codeSms } = await buyByCode(tv, digits);
      assert.match(codeSms, RAIL_WORD[rail], 'the code SMS names the rail that will pay');
      const order = await orderStatus(sys, orderId, 'fulfilled', tv);
      assert.equal(order.paidWith, rail);
      const [trade] = await tradesOf(orderId);
      assert.deepEqual([trade?.kind, trade?.state, trade?.rail], ['agreement_charge', 'paid', rail]);
      const payment = await db()
        .selectFrom('payments')
        .selectAll()
        .where('id', '=', trade!.payment_id)
        .executeTakeFirstOrThrow();
      assert.deepEqual(
        [payment.method, payment.source, payment.status, payment.external_agreement_no],
        ['sms_code', rail, 'captured', agreement.external_agreement_no],
      );
      await sys.walk.assertLedgerSound();
    });
  }

  it('refuses quick pay on a rail form when the phone has not proven its number, changing nothing', async () => {
    const tv = await newTv(sys, 'qp-unproven');
    const orderId = await createOrder(sys, 'kids-app', tv);
    const payer = (await tv('POST', `/v1/orders/${orderId}/payer`, { phone: '+8613700137009' })).json();
    const token = String(payer.payUrl).split('/pay/')[1]!;
    const go = await sys.payserver.app.inject({
      method: 'POST',
      url: `/pay/${token}/rail?lang=en`,
      ...form({ rail: 'alipay', quickPay: 'yes' }),
    });
    assert.equal(go.statusCode, 303, go.body);
    assert.match(go.headers.location!, new RegExp(`^/pay/${token}`), 'back to the page, not to the rail');
    assert.equal((await tradesOf(orderId)).length, 0, 'no trade was started');
    assert.equal((await agreementsOf('8613700137009')).length, 0, 'no agreement was asked for');
  });

  it('fails a charge the rail refuses for a short balance as INSUFFICIENT_FUNDS, telling the TV and the phone', async () => {
    for (const [rail, digits] of [
      ['alipay', '8613700137003'],
      ['wechatpay', '8613700137004'],
    ] as const) {
      // The development balance left under the agreement covers the first purchase only.
      const { tv } = await signOnPage(rail, digits, 3000);
      const seen = await smsCount(sys, digits);
      const { orderId } = await buyByCode(tv, digits, 'vip-year');
      const order = await orderStatus(sys, orderId, 'failed', tv);
      assert.equal(order.failureCode, 'INSUFFICIENT_FUNDS', `${rail}: ${JSON.stringify(order)}`);
      await eventually(async () => {
        const texts = (await sys.carrier.carrier.inbox(digits)).slice(seen + 1).map((m) => m.text);
        assert.ok(
          texts.some((t) => RAIL_WORD[rail].test(t) && /未扣款|Nothing was charged/.test(t)),
          `the phone is told ${rail} did not cover it: ${JSON.stringify(texts)}`,
        );
      });
      const [trade] = await tradesOf(orderId);
      assert.deepEqual([trade?.kind, trade?.state], ['agreement_charge', 'failed']);
      await sys.walk.assertLedgerSound();
    }
  });

  it('charges a renewal under the Alipay agreement the renewing purchase signed, with no code', async () => {
    const digits = '8613700137005';
    const { tv } = await signOnPage('alipay', digits);
    const [sub] = (await tv('GET', '/v1/subscriptions')).json();
    assert.ok(sub, 'ticking quick pay on a renewing product made a subscription');
    const now = Date.parse((await sys.backendAdmin('GET', '/admin/v1/test-clock')).json().now);
    const res = await sys.payAdmin('POST', '/admin/v1/test-clock', {
      advanceSeconds: Math.round((Date.parse(sub.currentPeriodEnd) - now + 1000) / 1000),
    });
    assert.equal(res.statusCode, 200, res.body);
    await sys.backend.sweep();
    await sys.payserver.sweep();
    await eventually(async () => {
      const [renewed] = (await tv('GET', '/v1/subscriptions')).json();
      assert.ok(Date.parse(renewed.currentPeriodEnd) >= Date.parse(sub.currentPeriodEnd) + 29 * DAY, 'renewed');
    }, 20_000);
    const charges = await db()
      .selectFrom('rail_trades')
      .innerJoin('payments', 'payments.id', 'rail_trades.payment_id')
      .select(['rail_trades.kind', 'rail_trades.state', 'payments.method'])
      .where('payments.phone', '=', `+${digits}`)
      .where('payments.method', '=', 'renewal')
      .execute();
    assert.deepEqual(charges, [{ kind: 'agreement_charge', state: 'paid', method: 'renewal' }]);
    await sys.walk.assertLedgerSound();
  });

  it('makes the agreement agreed to last pay when a phone has the wallet and a rail', async () => {
    // The demo's bound phone has the wallet's quick pay; it then signs WeChat Pay's on a page.
    const digits = '8613800138000';
    const tv = await newTv(sys, 'qp-newest');
    const before = await buyByCode(tv, digits);
    assert.doesNotMatch(before.codeSms, /微信支付/, 'the wallet pays before any rail agreement');
    await orderStatus(sys, before.orderId, 'fulfilled', tv);
    const orderId = await createOrder(sys, 'kids-app', tv);
    const seen = await smsCount(sys, digits);
    const payer = (await tv('POST', `/v1/orders/${orderId}/payer`, { phone: `+${digits}` })).json();
    const token = String(payer.payUrl).split('/pay/')[1]!;
    await latestCode(sys, digits, seen);
    const { checkout } = sys.payserver.services;
    const seenPage = await smsCount(sys, digits);
    const sessionId = await checkout.sendCode(token);
    const grant = await checkout.verify(token, sessionId, await latestCode(sys, digits, seenPage));
    const go = await sys.payserver.app.inject({
      method: 'POST',
      url: `/pay/${token}/rail?lang=en`,
      ...form({ rail: 'wechatpay', quickPay: 'yes' }, `tvpay_pay_grant=${grant}`),
    });
    assert.equal(go.statusCode, 303, go.body);
    await payAndSignAt('wechatpay', go.headers.location!, 100_000);
    await orderStatus(sys, orderId, 'fulfilled', tv);
    await eventually(async () => assert.equal((await agreementsOf(digits)).at(-1)?.status, 'active'));
    const after = await buyByCode(tv, digits);
    assert.match(after.codeSms, /微信支付/, 'the newest agreement pays');
    assert.equal((await orderStatus(sys, after.orderId, 'fulfilled', tv)).paidWith, 'wechatpay');
  });

  for (const [rail, digits] of [
    ['alipay', '8613700137007'],
    ['wechatpay', '8613700137008'],
  ] as const) {
    it(`ends a ${rail} agreement the payer ended in the app, from the rail's verified notification`, async () => {
      const { agreement } = await signOnPage(rail, digits);
      const url =
        rail === 'alipay'
          ? `/dev/alipay/agreements/${agreement.agreement_no}/unsign`
          : `/dev/wechatpay/contracts/${agreement.agreement_no}/terminate`;
      const res = await sys.carrier.app.inject({ method: 'POST', url });
      assert.equal(res.statusCode, 200, res.body);
      await eventually(async () => {
        const [a] = await agreementsOf(digits);
        assert.deepEqual([a?.status, a?.ended_by], ['ended', 'rail']);
      });
      assert.equal(await bound(digits), false, 'no agreement left: not bound');
    });
  }

  it('ends an agreement by the operator on the console: unsigned at the rail, the phone is no longer bound', async () => {
    const digits = '8613700137006';
    const { tv, agreement } = await signOnPage('wechatpay', digits);
    const visit = await payserverConsole();
    const listed = await visit('GET', `/console/agreements?q=${digits.slice(2)}`);
    assert.match(listed.body, new RegExp(`${agreement.external_agreement_no}[\\s\\S]*active[\\s\\S]*End it`));
    const token = /name="formToken" value="([^"]+)"/.exec(listed.body)?.[1] ?? '';
    const ended = await visit('POST', `/console/agreements/${agreement.external_agreement_no}/end`, {
      formToken: token,
    });
    assert.equal(ended.statusCode, 303, ended.body);
    assert.match(String(ended.headers.location), /notice=ended/);
    const [row] = await agreementsOf(digits);
    assert.deepEqual([row?.status, row?.ended_by], ['ended', 'operator']);
    assert.equal(await bound(digits), false);
    const again = await sys.payAdmin('POST', `/admin/v1/agreements/${agreement.external_agreement_no}/end`);
    assert.equal(again.json().status, 'ended', 'ending it again answers it as it is');
    const api = await sys.payAdmin('GET', `/admin/v1/agreements?phone=${digits.slice(2)}`);
    assert.equal(api.json()[0].externalAgreementNo, agreement.external_agreement_no);
    const orderId = await createOrder(sys, 'kids-app', tv);
    const payer = await tv('POST', `/v1/orders/${orderId}/payer`, { phone: `+${digits}` });
    assert.equal(payer.json().channel, 'wap_link', 'not bound: the link SMS');
    assert.equal((await sys.payAdmin('POST', '/admin/v1/agreements/qaNOSUCH/end')).statusCode, 404);
  });
});

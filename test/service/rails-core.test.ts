import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RawNotification } from '../../src/payserver/rails/rail.ts';
import { eventually } from '../support/eventually.ts';
import { createOrder, latestCode, newTv, orderStatus, smsCount } from '../support/flows.ts';
import { lifted, testSystem, type TestSystem } from '../support/system.ts';
import { TestRail } from '../support/test-rail.ts';
import { internal as signedCall, scan as scanFor } from '../support/rails.ts';
import { pgSkip } from '../support/pg.ts';

const PHONE = '8613800138000';
const alipay = new TestRail('alipay');
const wechatpay = new TestRail('wechatpay');
let sys: TestSystem;
const pgSkipped = await pgSkip();

const internal = (method: 'GET' | 'POST', path: string, body?: unknown) => signedCall(sys, method, path, body);

/** An order of a TV of its own whose payer (a bound phone) has been sent a code: its checkout is open here. */
async function openOrder() {
  const tv = await newTv(sys, `tv-${Math.random().toString(36).slice(2, 8)}`);
  const orderId = await createOrder(sys, 'vip-month', tv);
  const seen = await smsCount(sys, PHONE);
  assert.equal((await tv('POST', `/v1/orders/${orderId}/payer`, { phone: `+${PHONE}` })).statusCode, 202);
  await latestCode(sys, PHONE, seen);
  const checkout = await checkoutOf(orderId);
  return { tv, orderId, checkout };
}

const db = () => sys.payserver.db;

/** The payment server's checkout of an order. */
const checkoutOf = (orderId: string) =>
  db().selectFrom('checkouts').selectAll().where('order_id', '=', orderId).executeTakeFirstOrThrow();

const scan = (orderId: string, rail: 'alipay' | 'wechatpay') => scanFor(sys, orderId, rail);

const outTradeNoOf = (qrText: string) => qrText.split('/').pop()!;

function notify(rail: 'alipay' | 'wechatpay', raw: RawNotification) {
  return sys.payserver.app.inject({
    method: 'POST',
    url: `/v1/rails/${rail}/notify`,
    headers: raw.headers as Record<string, string>,
    payload: raw.body,
  });
}

/** What changes when money moves: journal entries, payments' statuses, the order's checkout. */
async function snapshot(orderId: string) {
  const entries = await db().selectFrom('journal_entries').select('id').execute();
  const payments = await db()
    .selectFrom('payments')
    .select(['id', 'status', 'source'])
    .where('order_id', '=', orderId)
    .orderBy('id')
    .execute();
  const checkout = await db()
    .selectFrom('checkouts')
    .select(['status', 'paid_payment_id'])
    .where('order_id', '=', orderId)
    .executeTakeFirst();
  return { entries: entries.length, payments, checkout };
}

/** Waits until the payment server's refund of this payment has succeeded. */
const refundSucceeds = (paymentId: string | null) =>
  eventually(async () => {
    const refund = await db().selectFrom('refunds').selectAll().where('payment_id', '=', paymentId).executeTakeFirst();
    assert.equal(refund?.status, 'succeeded');
  });

const tradeOf = (outTradeNo: string) =>
  db().selectFrom('rail_trades').selectAll().where('out_trade_no', '=', outTradeNo).executeTakeFirstOrThrow();

// The payment server's rail core on each store it runs on (the trades' indexes and upserts are SQL of their own).
for (const store of ['SQLite', 'PostgreSQL'] as const)
  describe(`money rails in the payment server on ${store}`, { skip: store === 'PostgreSQL' && pgSkipped }, () => {
    before(async () => {
      const postgres = store === 'PostgreSQL';
      const env = lifted(['PAYER_PER_PHONE', 'CODES_PER_PHONE', 'ORDERS_PER_DEVICE']);
      sys = await testSystem(env, { rails: [alipay, wechatpay], postgres });
    });
    after(() => sys?.close());

    it('lists the rails that are on to the back-end, and only to it', async () => {
      const res = await internal('GET', '/internal/v1/rails');
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(
        res.json().map((r: { rail: string }) => r.rail),
        ['alipay', 'wechatpay'],
      );
      const unsigned = await sys.payserver.app.inject({ method: 'GET', url: '/internal/v1/rails' });
      assert.equal(unsigned.statusCode, 401);
    });

    it('pays an order by scan once: the same QR while valid, the notification settles it, a replay changes nothing', async () => {
      const { tv, orderId } = await openOrder();
      const first = await scan(orderId, 'alipay');
      assert.equal(first.statusCode, 200, first.body);
      const again = await scan(orderId, 'alipay');
      assert.equal(again.json().qrText, first.json().qrText);
      assert.deepEqual(alipay.calls.filter((c) => c === 'start:qr').length >= 1, true);
      const no = outTradeNoOf(first.json().qrText);
      const raw = alipay.pay(no);
      const answer = await notify('alipay', raw);
      assert.deepEqual([answer.statusCode, answer.body], [200, 'success']);
      const paid = await snapshot(orderId);
      assert.equal(paid.checkout?.status, 'paid');
      const winner = paid.payments.find((p) => p.id === paid.checkout?.paid_payment_id);
      assert.deepEqual([winner?.status, winner?.source], ['captured', 'alipay']);
      // The phone's code payment that was waiting is released: one order settles once.
      assert.ok(
        paid.payments.filter((p) => p.id !== winner?.id).every((p) => p.status === 'released'),
        "paid.payments.filter((p) => p.id !== winner?.id).every((p) => p.status === 'released')",
      );
      await orderStatus(sys, orderId, 'fulfilled', tv);
      const told = (await db().selectFrom('outbox').select('payload').where('topic', '=', 'notify.backend').execute())
        .map((m) => JSON.parse(m.payload))
        .filter((e) => e.orderId === orderId && e.type === 'payment.completed');
      assert.deepEqual(
        told.map((e) => [e.paymentId, e.source, e.channel]),
        [[winner?.id, 'alipay', 'scan']],
      );

      const replay = await notify('alipay', raw);
      assert.deepEqual([replay.statusCode, replay.body], [200, 'success']);
      assert.deepEqual(await snapshot(orderId), paid);
      assert.equal((await tradeOf(no)).state, 'paid');
      await sys.walk.assertLedgerSound();
      const merchant = await db()
        .selectFrom('ledger_accounts')
        .selectAll()
        .where('id', '=', 'la_alipay_CNY')
        .executeTakeFirstOrThrow();
      assert.ok(Number(merchant.balance_minor) < 0, 'the clearing account owes what Alipay collected');
    });

    it('refuses a tampered notification and one with a wrong amount, changing nothing', async () => {
      const { orderId } = await openOrder();
      const no = outTradeNoOf((await scan(orderId, 'wechatpay')).json().qrText);
      const before = await snapshot(orderId);
      const honest = wechatpay.pay(no);
      const tampered = {
        headers: honest.headers,
        body: Buffer.from(honest.body.toString().replace(/"amountMinor":\d+/, '"amountMinor":1')),
      };
      const t = await notify('wechatpay', tampered);
      assert.notEqual(t.body, 'success');
      assert.ok(t.statusCode >= 400, 't.statusCode >= 400');
      const wrongAmount = wechatpay.notification({
        type: 'trade.paid',
        outTradeNo: no,
        providerTradeNo: 'Pforged',
        amountMinor: 1,
      });
      const w = await notify('wechatpay', wrongAmount);
      assert.ok(w.statusCode >= 400 && w.body !== 'success', w.body);
      const unknownTrade = wechatpay.notification({
        type: 'trade.paid',
        outTradeNo: 'tvnotours',
        providerTradeNo: 'Px',
        amountMinor: 1,
      });
      assert.ok(
        (await notify('wechatpay', unknownTrade)).statusCode >= 400,
        "(await notify('wechatpay', unknownTrade)).statusCode >= 400",
      );
      assert.deepEqual(await snapshot(orderId), before);
      assert.equal((await tradeOf(no)).state, 'qr');
    });

    it('settles a paid trade whose notification was lost by asking the rail', async () => {
      const { orderId } = await openOrder();
      const no = outTradeNoOf((await scan(orderId, 'alipay')).json().qrText);
      alipay.pay(no); // the notification never arrives
      await sys.advance(11_000);
      const after = await snapshot(orderId);
      assert.equal(after.checkout?.status, 'paid');
      assert.equal((await tradeOf(no)).state, 'paid');
      const log = await db()
        .selectFrom('rail_trade_log')
        .select(['what', 'outcome'])
        .where('out_trade_no', '=', no)
        .orderBy('at')
        .orderBy('id')
        .execute();
      assert.deepEqual(
        log.map((l) => l.what),
        ['start', 'query', 'query'],
      );
    });

    it('settles a start whose answer was unknown by asking, never by starting again', async () => {
      const { orderId } = await openOrder();
      const starts = alipay.calls.filter((c) => c.startsWith('start')).length;
      alipay.script.start.push('unknown');
      const res = await scan(orderId, 'alipay');
      assert.equal(res.statusCode, 409);
      assert.equal(res.json().code, 'RAIL_UNAVAILABLE');
      const trade = await db()
        .selectFrom('rail_trades')
        .selectAll()
        .where('order_id', '=', orderId)
        .executeTakeFirstOrThrow();
      assert.equal(trade.state, 'unknown');
      alipay.pay(trade.out_trade_no); // the payer paid all the same
      await sys.advance(11_000);
      assert.equal((await tradeOf(trade.out_trade_no)).state, 'paid');
      assert.equal((await snapshot(orderId)).checkout?.status, 'paid');
      assert.equal(alipay.calls.filter((c) => c.startsWith('start')).length, starts + 1);
    });

    it('binds a phone by a rail agreement and charges the code reply under it once, an unknown answer settled by asking', async () => {
      const digits = store === 'SQLite' ? '8613700137011' : '8613700137012';
      const bound = async () =>
        (await internal('POST', '/internal/v1/bindings/lookup', { phone: `+${digits}` })).json().bound as boolean;
      assert.equal(await bound(), false);
      // On the checkout page: the number proven, quick pay ticked on Alipay's form, paid and signed at Alipay.
      const tv = await newTv(sys, `qp-${digits.slice(-4)}`);
      const first = await createOrder(sys, 'vip-month', tv);
      const seen = await smsCount(sys, digits);
      const payUrl = (await tv('POST', `/v1/orders/${first}/payer`, { phone: `+${digits}` })).json().payUrl as string;
      const token = payUrl.split('/pay/')[1]!;
      const { checkout } = sys.payserver.services;
      const grant = await checkout.verify(
        token,
        await checkout.sendCode(token),
        await latestCode(sys, digits, seen + 1),
      );
      const go = await sys.payserver.app.inject({
        method: 'POST',
        url: `/pay/${token}/rail`,
        payload: 'rail=alipay&quickPay=yes',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `tvpay_pay_grant=${grant}` },
      });
      assert.equal(go.statusCode, 303, go.body);
      const [pageTrade] = await db().selectFrom('rail_trades').selectAll().where('order_id', '=', first).execute();
      assert.equal((await notify('alipay', alipay.pay(pageTrade!.out_trade_no))).body, 'success');
      const agreement = await db()
        .selectFrom('rail_agreements')
        .selectAll()
        .where('phone', '=', `+${digits}`)
        .executeTakeFirstOrThrow();
      assert.equal(agreement.status, 'signing', 'it does not count before the rail says it was signed');
      assert.equal(await bound(), false);
      const signed = alipay.signAgreement(agreement.external_agreement_no);
      assert.equal((await notify('alipay', signed)).body, 'success');
      assert.equal((await notify('alipay', signed)).body, 'success', 'a replay is answered success and applied once');
      assert.equal(await bound(), true);
      // A purchase on the TV: the code SMS, the reply, a charge whose answer is lost, settled by the query.
      const second = await createOrder(sys, 'vip-month', tv);
      const before = await smsCount(sys, digits);
      assert.equal(
        (await tv('POST', `/v1/orders/${second}/payer`, { phone: `+${digits}` })).json().channel,
        'sms_confirm',
      );
      const code = await latestCode(sys, digits, before);
      const charges = () => alipay.calls.filter((c) => c === 'start:agreement_charge').length;
      const charged = charges();
      alipay.script.start.push('unknown');
      await sys.carrier.carrier.reply(digits, code);
      await eventually(async () => {
        const [t] = await db().selectFrom('rail_trades').selectAll().where('order_id', '=', second).execute();
        assert.equal(t?.state, 'unknown', 'the charge was asked once and its answer was lost');
      });
      await sys.carrier.carrier.reply(digits, code); // the same code again confirms nothing more
      await sys.advance(11_000);
      await orderStatus(sys, second, 'fulfilled', tv);
      assert.equal(charges(), charged + 1, 'charged once: the unknown answer was settled by asking');
      // The payer ends the agreement in the app: the phone is no longer bound.
      assert.equal((await notify('alipay', alipay.endAgreement(agreement.external_agreement_no))).body, 'success');
      assert.equal(await bound(), false);
      await sys.walk.assertLedgerSound();
    });

    it('closes the open trades of an order that ends', async () => {
      const { orderId } = await openOrder();
      const no = outTradeNoOf((await scan(orderId, 'wechatpay')).json().qrText);
      const res = await internal('POST', `/internal/v1/orders/${orderId}/close`, {});
      assert.equal(res.statusCode, 200, res.body);
      await eventually(async () => assert.equal((await tradeOf(no)).state, 'closed'));
      assert.equal(wechatpay.trades.get(no)?.state, 'closed');
      const payment = await db()
        .selectFrom('payments')
        .selectAll()
        .where('id', '=', (await tradeOf(no)).payment_id)
        .executeTakeFirstOrThrow();
      assert.equal(payment.status, 'released');
    });

    it('refuses a scan for an order that ended, and for a rail that is off', async () => {
      const { orderId } = await openOrder();
      await internal('POST', `/internal/v1/orders/${orderId}/close`, {});
      const ended = await scan(orderId, 'alipay');
      assert.deepEqual([ended.statusCode, ended.json().code], [409, 'ORDER_FINAL']);
    });

    it('refunds a rail payment in part and then in full through the rail, once per refund id', async () => {
      const { tv, orderId } = await openOrder();
      const no = outTradeNoOf((await scan(orderId, 'alipay')).json().qrText);
      await notify('alipay', alipay.pay(no));
      await orderStatus(sys, orderId, 'fulfilled', tv);
      const amount = Number((await tradeOf(no)).amount_minor);
      const ask = (amountMinor: number, key: string) =>
        sys.backendAdmin(
          'POST',
          `/admin/v1/orders/${orderId}/refunds`,
          { amountMinor, reason: 'test' },
          { 'idempotency-key': key },
        );
      const part = await ask(100, `k-${no}-1`);
      assert.ok(part.statusCode < 300, part.body);
      const rows = () =>
        db().selectFrom('refunds').selectAll().where('order_id', '=', orderId).orderBy('created_at').execute();
      await eventually(async () =>
        assert.deepEqual(
          (await rows()).map((r) => r.status),
          ['succeeded'],
        ),
      );
      const rest = await ask(amount - 100, `k-${no}-2`);
      assert.ok(rest.statusCode < 300, rest.body);
      await eventually(async () =>
        assert.deepEqual(
          (await rows()).map((r) => r.status),
          ['succeeded', 'succeeded'],
        ),
      );
      const refunds = [...alipay.refunds.values()].filter((r) => r.outTradeNo === no);
      assert.deepEqual(
        refunds.map((r) => r.refundMinor),
        [100, amount - 100],
      );
      const payment = await db()
        .selectFrom('payments')
        .selectAll()
        .where('id', '=', (await tradeOf(no)).payment_id)
        .executeTakeFirstOrThrow();
      assert.deepEqual([payment.status, Number(payment.refunded_minor)], ['refunded', amount]);
      await sys.walk.assertLedgerSound();
      const refundIds = (await rows()).map((r) => r.id).sort();
      const entries = await db()
        .selectFrom('journal_entries')
        .select('ref')
        .where('kind', '=', 'rail_refund')
        .where('ref', 'in', refundIds)
        .execute();
      assert.deepEqual(entries.map((e) => e.ref).sort(), refundIds);
    });

    it('refunds in full by itself a second rail payment of an order another rail already paid', async () => {
      const { orderId } = await openOrder();
      const ali = outTradeNoOf((await scan(orderId, 'alipay')).json().qrText);
      const wx = outTradeNoOf((await scan(orderId, 'wechatpay')).json().qrText);
      const wxPaid = wechatpay.pay(wx); // paid at WeChat Pay a moment before tvpay closes it
      await notify('alipay', alipay.pay(ali));
      assert.equal((await notify('wechatpay', wxPaid)).body, 'success');
      const wxPayment = (await tradeOf(wx)).payment_id;
      await refundSucceeds(wxPayment);
      const c = await checkoutOf(orderId);
      assert.equal(c.paid_payment_id, (await tradeOf(ali)).payment_id);
      assert.deepEqual([...wechatpay.refunds.values()].filter((r) => r.outTradeNo === wx).length, 1);
      await sys.walk.assertLedgerSound();
    });

    it('refunds in full by itself a trade the rail says was paid when tvpay closes it for an ended order', async () => {
      const { orderId } = await openOrder();
      const no = outTradeNoOf((await scan(orderId, 'alipay')).json().qrText);
      alipay.pay(no); // paid at the rail; its notification is lost
      assert.equal((await internal('POST', `/internal/v1/orders/${orderId}/close`, {})).statusCode, 200);
      const paymentId = (await tradeOf(no)).payment_id;
      await refundSucceeds(paymentId);
      assert.equal((await tradeOf(no)).state, 'paid');
      const c = await checkoutOf(orderId);
      assert.equal(c.status, 'closed');
      assert.equal([...alipay.refunds.values()].filter((r) => r.outTradeNo === no).length, 1);
      await sys.walk.assertLedgerSound();
    });
  });

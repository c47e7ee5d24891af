import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { signRequest } from '../../src/lib/signing.ts';
import { createOrder, latestCode, orderStatus, smsCount } from '../support/flows.ts';
import { pgSkip } from '../support/pg.ts';
import { internal, openOrder, scan } from '../support/rails.ts';
import { lifted, suiteSystem } from '../support/system.ts';

const PATH = '/internal/v1/payment-events';
const pgSkipped = await pgSkip();

/**
 * Issue 28 at the back-end: a money rail's QR payment arrives as a signed payment event with `source` a
 * rail and `channel: 'scan'`, and the TV's rail routes. Run on SQLite and on PostgreSQL, where 'wechatpay'
 * must fit the orders' `paid_source`.
 */
for (const store of ['SQLite', 'PostgreSQL'] as const) {
  describe(`money rails at the back-end on ${store}`, { skip: store === 'PostgreSQL' && pgSkipped }, () => {
    const sys = suiteSystem(lifted(['PAYER_PER_PHONE']), { postgres: store === 'PostgreSQL' });
    let n = 0;

    /** What the payment server sends when a rail's payment settles, signed as it signs it. */
    const scanPaid = async (orderId: string, source: 'alipay' | 'wechatpay', amountMinor: number, attempt = 0) => {
      n++;
      const body = JSON.stringify({
        messageId: `msg_scan_${store}_${n}`,
        type: 'payment.completed',
        orderId,
        attempt,
        paymentId: `pay_scan_${store}_${n}`,
        amountMinor,
        currency: 'CNY',
        failureCode: null,
        source,
        channel: 'scan',
        at: new Date().toISOString(),
      });
      const headers = signRequest(sys.secrets.serviceSecret, 'POST', PATH, body, new Date(), `nonce-scan-${n}-000000`);
      const res = await sys.backend.app.inject({
        method: 'POST',
        url: PATH,
        payload: body,
        headers: { ...headers, 'content-type': 'application/json' },
      });
      assert.equal(res.statusCode, 200, res.body);
      return res.json() as { result: string; duplicate: boolean };
    };

    it("traces an order's rail trade with its calls, lists its payment with the trade, and the rails' clearing", async () => {
      const { orderId } = await openOrder(sys);
      assert.equal((await scan(sys, orderId, 'alipay')).statusCode, 200);
      const trace = (await internal(sys, 'POST', `/internal/v1/orders/${orderId}/trace`, {})).json();
      assert.equal(trace.rails.length, 1);
      const [trade] = trace.rails;
      assert.deepEqual(
        [trade.rail, trade.state, trade.providerTradeNo, trade.events.map((e: { kind: string }) => e.kind)],
        ['alipay', 'qr', null, ['start']],
      );
      assert.equal(trade.events[0].outcome, 'qr');
      const listed = (await sys.payAdmin('GET', `/admin/v1/payments?orderId=${orderId}&source=alipay`)).json();
      assert.deepEqual(
        listed.map((p: { railTrade: { outTradeNo: string } | null }) => p.railTrade?.outTradeNo),
        [trade.outTradeNo],
      );
      const rails = (await sys.payAdmin('GET', '/admin/v1/rails')).json();
      assert.deepEqual(
        rails.map((r: { rail: string; mode: string }) => [r.rail, r.mode]),
        [
          ['alipay', 'dev'],
          ['wechatpay', 'dev'],
        ],
      );
    });

    it('takes a WeChat Pay scan payment whatever phone attempt was pending: paid by scan, paidWith wechatpay', async () => {
      const orderId = await createOrder(sys, 'vip-month');
      const seen = await smsCount(sys, '8613800138000');
      const pending = await sys.tv('POST', `/v1/orders/${orderId}/payer`, { phone: '13800138000' });
      assert.equal(pending.statusCode, 202, pending.text);
      await latestCode(sys, '8613800138000', seen);
      assert.equal((await sys.tv('GET', `/v1/orders/${orderId}`)).json().channel, 'sms_confirm');
      assert.equal((await scanPaid(orderId, 'wechatpay', 2500)).result, 'applied');
      await orderStatus(sys, orderId, 'fulfilled');
      const order = (await sys.tv('GET', `/v1/orders/${orderId}`)).json();
      assert.equal(order.channel, 'scan');
      assert.equal(order.paidWith, 'wechatpay');
      assert.equal(order.triesLeft, null);
      const row = await sys.backend.db.selectFrom('orders').selectAll().where('id', '=', orderId).executeTakeFirst();
      assert.equal(row?.paid_source, 'wechatpay', 'stored whole');
    });

    it('takes an Alipay scan payment of an order that never had a payer', async () => {
      const orderId = await createOrder(sys, 'kids-app');
      const amount = (await sys.tv('GET', `/v1/orders/${orderId}`)).json().amountMinor;
      assert.equal((await scanPaid(orderId, 'alipay', amount)).result, 'applied');
      await orderStatus(sys, orderId, 'fulfilled');
      const order = (await sys.tv('GET', `/v1/orders/${orderId}`)).json();
      assert.equal(order.channel, 'scan');
      assert.equal(order.paidWith, 'alipay');
    });

    it('rejects a scan payment of an ended order, so the payment server gives it back', async () => {
      const orderId = await createOrder(sys, 'vip-month');
      assert.equal((await sys.tv('POST', `/v1/orders/${orderId}/cancel`)).statusCode, 200);
      assert.equal((await scanPaid(orderId, 'alipay', 2500)).result, 'rejected');
      const order = (await sys.tv('GET', `/v1/orders/${orderId}`)).json();
      assert.equal(order.status, 'cancelled');
      assert.equal(order.paidWith, null);
    });

    it("answers a scan request for another TV's order 404, an ended order 409 ORDER_FINAL, a bad rail 400", async () => {
      const orderId = await createOrder(sys, 'vip-month');
      const other = (
        await sys.backendAdmin('POST', '/admin/v1/devices', { name: `rails-${store}`, accountId: 'r-1' })
      ).json().token;
      const foreign = await sys.as(other)('POST', `/v1/orders/${orderId}/scan`, { rail: 'alipay' });
      assert.equal(foreign.statusCode, 404, foreign.text);
      assert.equal(foreign.json().code, 'ORDER_NOT_FOUND');
      const bad = await sys.tv('POST', `/v1/orders/${orderId}/scan`, { rail: 'paypal' });
      assert.equal(bad.statusCode, 400, bad.text);
      assert.equal(bad.json().code, 'VALIDATION_FAILED');
      await sys.tv('POST', `/v1/orders/${orderId}/cancel`);
      const ended = await sys.tv('POST', `/v1/orders/${orderId}/scan`, { rail: 'alipay' });
      assert.equal(ended.statusCode, 409, ended.text);
      assert.equal(ended.json().code, 'ORDER_FINAL');
      assert.match(ended.json().detail, /cancelled/);
    });

    it('lists the rails that are on, and answers a rail that is not on 409 RAIL_UNAVAILABLE', async () => {
      const listed = await sys.tv('GET', '/v1/rails');
      assert.equal(listed.statusCode, 200, listed.text);
      const on = (listed.json() as Array<{ rail: string }>).map((r) => r.rail);
      const off = (['alipay', 'wechatpay'] as const).filter((r) => !on.includes(r));
      const orderId = await createOrder(sys, 'vip-month');
      for (const rail of off) {
        const res = await sys.tv('POST', `/v1/orders/${orderId}/scan`, { rail });
        assert.equal(res.statusCode, 409, res.text);
        assert.equal(res.json().code, 'RAIL_UNAVAILABLE');
      }
      for (const rail of on) {
        const res = await sys.tv('POST', `/v1/orders/${orderId}/scan`, { rail });
        assert.equal(res.statusCode, 200, res.text);
        assert.equal(res.json().rail, rail);
        assert.ok(res.json().qrText, 'res.json().qrText');
      }
      assert.equal((await sys.tv('GET', `/v1/orders/${orderId}`)).json().status, 'created', 'nothing changed');
    });
  });
}

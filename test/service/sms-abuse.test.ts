import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createOrder, latestCode, newTv, orderStatus } from '../support/flows.ts';
import { limits, RAILS_OFF, suiteSystem } from '../support/system.ts';

// No money rail on: a number without a wallet ends its order at once (with a rail, it would pay by the rail).
const sys = suiteSystem({ ...limits({ PAYER_PER_PREFIX: 2 }), ...RAILS_OFF, TVPAY_SMS_DAILY_BUDGET: '3' });

describe('defences against SMS abuse', () => {
  it('refuses a third number of the same prefix in a window with RATE_LIMITED', async () => {
    // An order for each number (a number without a wallet ends its order at once, NO_ACCOUNT).
    for (const phone of ['13600136000', '13600136001'])
      assert.equal(
        (await sys.tv('POST', `/v1/orders/${await createOrder(sys, 'kids-app')}/payer`, { phone })).statusCode,
        202,
      );
    const orderId = await createOrder(sys, 'kids-app');
    const res = await sys.tv('POST', `/v1/orders/${orderId}/payer`, { phone: '13600136002' });
    assert.equal(res.statusCode, 429);
    assert.equal(res.json().code, 'RATE_LIMITED');
    await sys.tv('POST', `/v1/orders/${orderId}/cancel`);
  });

  it("stops new SMS payments when the day's budget is used up, with a clear problem, and lets a payment in flight finish", async () => {
    const other = await newTv(sys, 'budget-in-flight');
    const inFlight = await createOrder(sys, 'kids-app', other);
    assert.equal((await other('POST', `/v1/orders/${inFlight}/payer`, { phone: '13800138000' })).statusCode, 202);
    const code = await latestCode(sys, '8613800138000');
    const refused = await sys.tv('POST', `/v1/orders/${await createOrder(sys, 'kids-app')}/payer`, {
      phone: '13900139000',
    });
    assert.equal(refused.statusCode, 429);
    assert.equal(refused.json().code, 'SMS_BUDGET_EXHAUSTED');
    assert.match(refused.json().detail, /budget/);
    assert.ok(Number(refused.headers['retry-after']) > 0, "Number(refused.headers['retry-after']) > 0");
    const status = (await sys.backendAdmin('GET', '/admin/v1/sms/budget')).json();
    assert.deepEqual(
      { used: status.used, budget: status.budget, tripped: status.tripped },
      { used: 3, budget: 3, tripped: true },
      'operators see the breaker tripped',
    );
    await sys.carrier.carrier.reply('8613800138000', code);
    await orderStatus(sys, inFlight, 'fulfilled', other);
  });
});

describe('undeliverable code SMS', () => {
  const s2 = suiteSystem();

  it('sends a new code when the gateway reports one undelivered, and fails the payment with SMS_UNDELIVERABLE after three', async () => {
    const { accountByPhone, createOrder: create, orderStatus: status } = await import('../support/flows.ts');
    const { eventually } = await import('../support/eventually.ts');
    const before = await accountByPhone(s2, '+8613800138000');
    const orderId = await create(s2, 'kids-app');
    await s2.tv('POST', `/v1/orders/${orderId}/payer`, { phone: '13800138000' });
    const dlr = (id: string) =>
      s2.payserver.app.inject({
        url: `/v1/sms/dlr?token=${encodeURIComponent(s2.secrets.smsInboundToken)}&id=${id}&status=16`,
      });
    const codeSms = async (n: number) =>
      eventually(async () => {
        const rows = (await s2.payAdmin('GET', '/admin/v1/sms?phone=13800138000'))
          .json()
          .filter((r: { kind: string }) => r.kind === 'code');
        assert.equal(rows.length, n);
        assert.ok(
          rows.every((r: { status: string }) => r.status !== 'queued'),
          "rows.every((r: { status: string }) => r.status !== 'queued')",
        );
        return rows[0].smsId as string;
      });
    for (let n = 1; n <= 3; n++) {
      const id = await codeSms(n);
      await eventually(async () => {
        const rows = (await s2.payAdmin('GET', '/admin/v1/sms?phone=13800138000')).json();
        assert.equal(rows.find((r: { smsId: string }) => r.smsId === id).status, 'delivered');
      });
      // The carrier said delivered; a later report says the handset never got it.
      await s2.payserver.db.updateTable('sms_messages').set({ status: 'sent' }).where('id', '=', id).execute();
      assert.equal((await dlr(id)).statusCode, 200);
    }
    const failed = await status(s2, orderId, 'failed');
    assert.equal(failed.failureCode, 'SMS_UNDELIVERABLE');
    await eventually(async () => assert.deepEqual((await accountByPhone(s2, '+8613800138000')).wallet, before.wallet));
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventually } from '../support/eventually.ts';
import { accountByPhone, createOrder, newTv, orderStatus, smsCount } from '../support/flows.ts';
import { lifted, suiteSystem } from '../support/system.ts';

const sys = suiteSystem({
  ...lifted(['CODES_PER_PHONE', 'CODES_PER_DEVICE']),
  TVPAY_SMS_DAILY_BUDGET: '3',
});

describe('SMS that probing and pumping cannot avoid', () => {
  it('texts the phone when a payment for it cannot go ahead, so probing a number for funds is never silent', async () => {
    const digits = '8613700137000';
    const seen = await smsCount(sys, digits);
    const orderId = await createOrder(sys, 'vip-year');
    assert.equal((await sys.tv('POST', `/v1/orders/${orderId}/payer`, { phone: '13700137000' })).statusCode, 202);
    const failed = await orderStatus(sys, orderId, 'failed');
    assert.equal(failed.failureCode, 'INSUFFICIENT_FUNDS');
    const sms = await eventually(async () => {
      const inbox = await sys.carrier.carrier.inbox(digits);
      assert.ok(inbox.length > seen, 'the phone was texted');
      return inbox.at(-1)!;
    });
    assert.match(sms.text, /未扣款/);
    assert.match(sms.text, /200\.00元/);
  });

  it("counts possession codes against the payment server's daily SMS budget and refuses past it", async () => {
    const tv = await newTv(sys, 'pumping');
    const orderId = await createOrder(sys, 'kids-app', tv);
    const order = (await tv('POST', `/v1/orders/${orderId}/payer`, { phone: '13600136000' })).json();
    const token = String(order.payUrl).split('/pay/')[1]!;
    const send = () =>
      sys.payserver.app.inject({
        method: 'POST',
        url: `/pay/${token}/code?lang=en`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: '',
      });
    const used = (await sys.payAdmin('GET', '/admin/v1/sms/budget')).json().used as number;
    const answers = [];
    for (let i = used; i < 3; i++) answers.push(await send());
    assert.ok(
      answers.every((a) => a.statusCode === 303 && !a.headers['set-cookie']?.toString().includes('tvpay_pay_notice=')),
      'each code was sent',
    );
    const refused = await send();
    assert.equal(refused.statusCode, 303);
    const notice = String(refused.headers['set-cookie']).match(/tvpay_pay_notice=([^;]+)/)![1]!;
    assert.equal(
      JSON.parse(Buffer.from(notice, 'base64url').toString('utf8')).code,
      'SMS_BUDGET_EXHAUSTED',
      'the page is told the budget is used up',
    );
    const budget = (await sys.payAdmin('GET', '/admin/v1/sms/budget')).json();
    assert.deepEqual({ used: budget.used, tripped: budget.tripped }, { used: 3, tripped: true });
  });

  it("then fails a bound phone's pre-pay with SMS_BUDGET_EXHAUSTED, holding and sending nothing", async () => {
    // The test above used the payment server's budget up (3 of 3); the back-end's own has one submission left.
    const before = await accountByPhone(sys, '+8613800138000');
    const seen = await smsCount(sys, '8613800138000');
    const tv = await newTv(sys, 'past the budget');
    const orderId = await createOrder(sys, 'kids-app', tv);
    assert.equal((await tv('POST', `/v1/orders/${orderId}/payer`, { phone: '13800138000' })).statusCode, 202);
    const failed = await orderStatus(sys, orderId, 'failed', tv);
    assert.equal(failed.failureCode, 'SMS_BUDGET_EXHAUSTED');
    assert.deepEqual(await accountByPhone(sys, '+8613800138000'), before, 'nothing held on the wallet');
    assert.equal(await smsCount(sys, '8613800138000'), seen, 'no code SMS went to the phone');
    const budget = (await sys.payAdmin('GET', '/admin/v1/sms/budget')).json();
    assert.deepEqual({ used: budget.used, tripped: budget.tripped }, { used: 3, tripped: true }, 'nothing over it');
  });
});

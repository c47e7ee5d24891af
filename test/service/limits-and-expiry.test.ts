import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { accountByPhone, createOrder, latestCode, orderStatus, smsCount } from '../support/flows.ts';
import { limits, suiteSystem } from '../support/system.ts';

const A = '8613800138000';
const sys = suiteSystem({
  ...limits({ PAYER_PER_PHONE: 3, CODES_PER_PHONE: 2, WINDOW_SECONDS: 86_400 }),
  TVPAY_CODE_TTL_SECONDS: '5',
});

describe('rate limits and code expiry', () => {
  it('refuses the fourth payer submission for one phone in a window with 429 RATE_LIMITED and leaves the order as it was', async () => {
    const orderId = await createOrder(sys, 'kids-app');
    for (let i = 0; i < 3; i++)
      assert.equal((await sys.tv('POST', `/v1/orders/${orderId}/payer`, { phone: '13600136000' })).statusCode, 202);
    const before = (await sys.tv('GET', `/v1/orders/${orderId}`)).json();
    const res = await sys.tv('POST', `/v1/orders/${orderId}/payer`, { phone: '13600136000' });
    assert.equal(res.statusCode, 429);
    assert.equal(res.json().code, 'RATE_LIMITED');
    assert.ok(Number(res.headers['retry-after']) > 0, "Number(res.headers['retry-after']) > 0");
    assert.deepEqual((await sys.tv('GET', `/v1/orders/${orderId}`)).json(), before);
  });

  it('counts no limit for a payer submission the order itself refuses (an ended order): 409, the allowance kept', async () => {
    const ended = await createOrder(sys, 'kids-app');
    assert.equal((await sys.tv('POST', `/v1/orders/${ended}/cancel`)).statusCode, 200);
    for (let i = 0; i < 4; i++) {
      const res = await sys.tv('POST', `/v1/orders/${ended}/payer`, { phone: '13700137000' });
      assert.equal(res.json().code, 'ORDER_FINAL', res.body);
    }
    for (let i = 0; i < 3; i++) {
      const orderId = await createOrder(sys, 'kids-app');
      const res = await sys.tv('POST', `/v1/orders/${orderId}/payer`, { phone: '13700137000' });
      assert.equal(res.statusCode, 202, `submission ${i + 1} of the phone's 3 is let through: ${res.body}`);
    }
    const last = await createOrder(sys, 'kids-app');
    assert.equal((await sys.tv('POST', `/v1/orders/${last}/payer`, { phone: '13700137000' })).statusCode, 429);
  });

  it('fails a payment with SMS_RATE_LIMITED once a phone got too many codes, holding nothing', async () => {
    const results: string[] = [];
    for (let i = 0; i < 3; i++) {
      const orderId = await createOrder(sys, 'kids-app');
      const res = await sys.tv('POST', `/v1/orders/${orderId}/payer`, { phone: '13900139000' });
      assert.equal(res.statusCode, 202);
      // A code that was sent expires unanswered: move time past its 5 s instead of waiting.
      if (res.json().status !== 'failed') await sys.advance(6000);
      results.push((await orderStatus(sys, orderId, 'failed')).failureCode);
    }
    assert.deepEqual(results, ['CONFIRMATION_EXPIRED', 'CONFIRMATION_EXPIRED', 'SMS_RATE_LIMITED']);
    const account = await accountByPhone(sys, '+8613900139000');
    assert.equal(account.wallet.heldMinor + account.card!.heldMinor, 0);
  });

  it('fails a payment whose code expired with CONFIRMATION_EXPIRED and releases its hold', async () => {
    const before = await accountByPhone(sys, `+${A}`);
    const seen = await smsCount(sys, A);
    const orderId = await createOrder(sys, 'kids-app');
    await sys.tv('POST', `/v1/orders/${orderId}/payer`, { phone: '13800138000' });
    const code = await latestCode(sys, A, seen);
    await sys.advance(6000); // past the code's 5 s lifetime, without waiting for it
    const failed = await orderStatus(sys, orderId, 'failed');
    assert.equal(failed.failureCode, 'CONFIRMATION_EXPIRED');
    await sys.carrier.carrier.reply(A, code);
    assert.deepEqual((await accountByPhone(sys, `+${A}`)).wallet, before.wallet);
  });
});

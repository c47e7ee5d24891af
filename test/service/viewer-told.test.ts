import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventually } from '../support/eventually.ts';
import { createOrder, latestCode, newTv, orderStatus, smsCount } from '../support/flows.ts';
import { lifted, RAILS_OFF, suiteSystem } from '../support/system.ts';

const A = '8613800138000';
const sys = suiteSystem({
  ...lifted(['PAYER_PER_PHONE', 'CODES_PER_PHONE', 'CODE_CHECKS_PER_PHONE']),
  // NO_ACCOUNT is what a phone without a wallet gets when no money rail is on (with one, it pays by the rail).
  ...RAILS_OFF,
});

const smsAfter = (digits: string, seen: number, pattern: RegExp) =>
  eventually(async () => {
    const texts = (await sys.carrier.carrier.inbox(digits)).slice(seen).map((m) => m.text);
    const hit = texts.find((t) => pattern.test(t));
    assert.ok(hit, `no SMS like ${pattern} in ${JSON.stringify(texts)}`);
    return hit!;
  });

describe('what the viewer is told', () => {
  it('answers a wrong code with the tries left, on the phone and on the TV, and texts a receipt after paying', async () => {
    const tv = await newTv(sys, 'told-tv');
    const orderId = await createOrder(sys, 'kids-app', tv);
    let seen = await smsCount(sys, A);
    await tv('POST', `/v1/orders/${orderId}/payer`, { phone: A });
    const code = await latestCode(sys, A, seen);
    assert.equal((await tv('GET', `/v1/orders/${orderId}`)).json().triesLeft, 5);
    seen = await smsCount(sys, A);
    const wrong = code === '000000' ? '111111' : '000000';
    await sys.carrier.carrier.reply(A, wrong);
    await smsAfter(A, seen, /验证码不正确，还可尝试4次/);
    await eventually(async () => assert.equal((await tv('GET', `/v1/orders/${orderId}`)).json().triesLeft, 4));
    seen = await smsCount(sys, A);
    await sys.carrier.carrier.reply(A, code);
    const order = await orderStatus(sys, orderId, 'fulfilled', tv);
    assert.equal(order.triesLeft, null);
    const receipt = await smsAfter(A, seen, /支付成功/);
    assert.match(receipt, /少儿动画应用/);
    assert.match(receipt, /9\.90元/);
    assert.match(receipt, /钱包/);
    assert.match(receipt, new RegExp(orderId.slice(-8)));
    seen = await smsCount(sys, A);
    await sys.carrier.carrier.reply(A, code);
    await smsAfter(A, seen, /没有待确认的支付/);
    seen = await smsCount(sys, A);
    await sys.carrier.carrier.reply(A, 'hello?');
    await smsAfter(A, seen, /未识别到验证码/);
  });

  it('fails at once with NO_ACCOUNT for a phone without a wallet, and tells the phone what it can do', async () => {
    const digits = '8613312345678';
    const tv = await newTv(sys, 'no-wallet-tv');
    const orderId = await createOrder(sys, 'kids-app', tv);
    await tv('POST', `/v1/orders/${orderId}/payer`, { phone: digits });
    const order = await orderStatus(sys, orderId, 'failed', tv);
    assert.equal(order.failureCode, 'NO_ACCOUNT');
    await smsAfter(digits, 0, /尚未开通.*钱包.*换一个号码/);
  });
});

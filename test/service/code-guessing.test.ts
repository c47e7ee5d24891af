import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventually } from '../support/eventually.ts';
import { accountByPhone, latestCode, newTv as tvOf, smsCount } from '../support/flows.ts';
import { overInject, postPageForm } from '../support/phone-browser.ts';
import { lifted, suiteSystem } from '../support/system.ts';

const BOUND = '8613800138000';
const UNBOUND = '8613600136000';
const sys = suiteSystem(lifted(['PAYER_PER_PHONE', 'CODES_PER_PHONE', 'CODES_PER_DEVICE', 'PAYER_PER_DEVICE']));

const payserverDb = () => sys.payserver.db;

const newTv = (name: string) => tvOf(sys, name);

async function orderFor(tv: ReturnType<typeof sys.as>, digits: string, productId = 'kids-app') {
  const created = await tv('POST', '/v1/orders', { productId });
  assert.equal(created.statusCode, 201, created.body);
  const order = await tv('POST', `/v1/orders/${created.json().orderId}/payer`, { phone: digits.slice(2) });
  assert.equal(order.statusCode, 202, order.body);
  return order.json();
}

const postForm = (url: string, fields: Record<string, string>, cookies: Record<string, string>) =>
  postPageForm(overInject(sys.payserver.app), url, fields, cookies);

describe('code guessing', () => {
  it('evaluates at most 5 of 150 possession-code guesses sent at once, and refuses the right code afterwards', async () => {
    const tv = await newTv('burst-page');
    const order = await orderFor(tv, UNBOUND);
    const token = String(order.payUrl).split('/pay/')[1]!;
    const seen = await smsCount(sys, UNBOUND);
    const sessionId = await sys.payserver.services.checkout.sendCode(token);
    const right = await latestCode(sys, UNBOUND, seen);
    const wrong = right === '000000' ? '111111' : '000000';
    const page = { tvpay_pay_session: sessionId };
    const answers = await Promise.all(
      Array.from({ length: 150 }, () => postForm(`/pay/${token}/verify?lang=en`, { code: wrong }, page)),
    );
    assert.ok(
      answers.every((a) => a.status === 303 && a.notice && a.notice.code !== 'CONFIRMING'),
      'every guess is refused, and the page is told why',
    );
    assert.ok(
      answers.every((a) => !a.cookies.some((c) => c.name === 'tvpay_pay_grant')),
      'no guess gets a grant',
    );
    const evaluated = answers.filter((a) => a.notice?.code === 'CODE_INCORRECT').length;
    assert.ok(evaluated <= 4, `${evaluated} guesses said how many tries were left`);
    const session = await payserverDb()
      .selectFrom('page_sessions')
      .selectAll()
      .where('id', '=', sessionId)
      .executeTakeFirstOrThrow();
    assert.equal(session.wrong_tries, 5, 'exactly five tries were taken');
    const late = await postForm(`/pay/${token}/verify?lang=en`, { code: right }, page);
    assert.equal(late.notice?.code, 'CONFIRMATION_FAILED');
    assert.ok(
      !late.cookies.some((c) => c.name === 'tvpay_pay_grant' && !c.gone),
      'the right code after the limit gives no way to pay',
    );
  });

  it('tests at most 5 guesses of 100 SMS replies sent at once, fails the payment and refuses the right code afterwards', async () => {
    const tv = await newTv('burst-sms');
    const before = await accountByPhone(sys, `+${BOUND}`);
    const seen = await smsCount(sys, BOUND);
    const order = await orderFor(tv, BOUND);
    const right = await latestCode(sys, BOUND, seen);
    const wrong = right === '000000' ? '111111' : '000000';
    const outcomes = await Promise.all(
      Array.from({ length: 100 }, () => sys.payserver.services.replies.handle(BOUND, wrong)),
    );
    assert.equal(outcomes.filter((o) => o === 'captured').length, 0);
    const payment = await payserverDb()
      .selectFrom('payments')
      .selectAll()
      .where('order_id', '=', order.orderId)
      .executeTakeFirstOrThrow();
    assert.equal(payment.wrong_replies, 5);
    assert.equal(payment.status, 'failed');
    assert.equal(await sys.payserver.services.replies.handle(BOUND, right), 'no_pending');
    await eventually(async () =>
      assert.equal((await tv('GET', `/v1/orders/${order.orderId}`)).json().failureCode, 'CONFIRMATION_FAILED'),
    );
    const afterwards = await accountByPhone(sys, `+${BOUND}`);
    assert.deepEqual(afterwards.wallet, before.wallet, 'nothing moved');
  });

  it('checks no more codes per phone than its window allows when the phone has ten pending payments', async () => {
    const digits = '8613900139000';
    const orders = [];
    for (let i = 0; i < 10; i++) orders.push(await orderFor(await newTv(`many-${i}`), digits));
    const ids = orders.map((o) => o.orderId);
    const payments = () => payserverDb().selectFrom('payments').selectAll().where('order_id', 'in', ids).execute();
    assert.equal((await payments()).filter((p: { status: string }) => p.status === 'pending').length, 10);
    for (let i = 0; i < 5; i++) await sys.payserver.services.replies.handle(digits, `${100000 + i}`);
    const checked = (await payments()).reduce((n: number, p: { wrong_replies: number }) => n + p.wrong_replies, 0);
    assert.ok(checked <= 10, `${checked} codes were checked; the phone's window allows 10`);
    const bucket = await payserverDb()
      .selectFrom('rate_limits')
      .selectAll()
      .where('bucket', '=', `code-checks:+${digits}`)
      .execute();
    assert.ok(
      bucket.every((b: { hits: number }) => b.hits <= 10),
      'bucket.every((b: { hits: number }) => b.hits <= 10)',
    );
  });
});

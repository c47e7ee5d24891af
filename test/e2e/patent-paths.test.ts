import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { signRequest } from '../../src/lib/signing.ts';
import { eventually } from '../support/eventually.ts';
import { freshPgDatabase, pgSkip } from '../support/pg.ts';
import { startProcesses, type Processes } from '../support/processes.ts';
import { overHttp, phoneBrowser, postPageForm } from '../support/phone-browser.ts';
import { e2eKit, watchEvents, orderHeldForCode } from './e2e-kit.ts';

const WALLET_COVERS = '8613800138000';
const CARD_COVERS = '8613900139000';
const BOTH_SHORT = '8613700137000';
const NOT_BOUND = '8613600136000';
const YEAR = 20000;
const DAY = 24 * 3600 * 1000;

const SETUPS = [
  { name: 'SQLite, one instance of each service', postgres: false, instances: 1 },
  { name: 'PostgreSQL, two instances of each service behind round-robin proxies', postgres: true, instances: 2 },
];

for (const setup of SETUPS) {
  const skip = setup.postgres ? await pgSkip() : false;

  describe(`the patent paths end to end: ${setup.name}`, { skip }, () => {
    let p: Processes;
    let k: ReturnType<typeof e2eKit>;
    const dbs: Array<{ drop(): Promise<void> }> = [];
    before(async () => {
      const env: Record<string, string> = {};
      if (setup.postgres) {
        const backendDb = await freshPgDatabase();
        const payserverDb = await freshPgDatabase();
        dbs.push(backendDb, payserverDb);
        env.TVPAY_BACKEND_DATABASE_URL = backendDb.url;
        env.TVPAY_PAYSERVER_DATABASE_URL = payserverDb.url;
      }
      p = await startProcesses(env, { instances: setup.instances });
      k = e2eKit(p);
    });
    after(async () => {
      await p?.close();
      for (const d of dbs) await d.drop();
    });

    it('bound, the wallet covers: code SMS, reply, paid from the wallet, entitlement on, TV sees it live', async () => {
      const before = await k.account(WALLET_COVERS);
      const seen = (await k.inbox(WALLET_COVERS)).length;
      const orderId = await k.order('vip-year');
      const order = await k.payer(orderId, '138 0013 8000');
      assert.equal(order.status, 'awaiting_payment');
      assert.equal(order.channel, 'sms_confirm');
      assert.equal(order.payerPhoneMasked, '+86 138****8000');
      assert.match(order.payUrl, /\/pay\/[A-Za-z0-9_-]{43}$/);
      const stream = await watchEvents(`${p.instanceUrls.backend[0]}/v1/orders/${orderId}/events`, p.deviceToken);

      const sms = await k.nextSms(WALLET_COVERS, seen);
      assert.equal(sms.from, '10690000');
      assert.match(sms.text, /会员包年/);
      assert.match(sms.text, /200\.00元/);
      assert.match(sms.text, /钱包/);
      assert.ok(sms.text.length <= 70, sms.text);
      const held = await k.account(WALLET_COVERS);
      assert.deepEqual(held.wallet, { balanceMinor: before.wallet.balanceMinor, heldMinor: YEAR });

      await k.reply(WALLET_COVERS, `确认 ${k.codeIn(sms.text)}`);
      const done = await k.until(orderId, 'fulfilled');
      assert.ok(done.paidAt && done.fulfilledAt, 'done.paidAt && done.fulfilledAt');
      assert.deepEqual(await stream.done.then((s) => s.at(-1)), 'fulfilled');
      assert.ok(stream.statuses.includes('awaiting_payment'), "stream.statuses.includes('awaiting_payment')");

      const afterPay = await k.account(WALLET_COVERS);
      assert.deepEqual(afterPay.wallet, { balanceMinor: before.wallet.balanceMinor - YEAR, heldMinor: 0 });
      assert.deepEqual(afterPay.card, before.card);
      const [vip] = (await k.tv('GET', '/v1/entitlements')).json();
      assert.equal(vip.service, 'vip');
      assert.equal(vip.orderId, orderId);
      assert.equal(Date.parse(vip.validUntil) - Date.parse(vip.validFrom), 365 * DAY);
    });

    it('bound, the wallet short: the card pays and the SMS says so', async () => {
      const before = await k.account(CARD_COVERS);
      const seen = (await k.inbox(CARD_COVERS)).length;
      const orderId = await k.order('vip-year');
      await k.payer(orderId, '13900139000');
      const sms = await k.nextSms(CARD_COVERS, seen);
      assert.match(sms.text, /余额不足/);
      assert.match(sms.text, /5678/);
      const held = await k.account(CARD_COVERS);
      assert.equal(held.card!.heldMinor, YEAR);
      assert.equal(held.wallet.heldMinor, 0);
      await k.reply(CARD_COVERS, k.codeIn(sms.text));
      await k.until(orderId, 'fulfilled');
      const afterPay = await k.account(CARD_COVERS);
      assert.deepEqual(afterPay.wallet, before.wallet);
      assert.deepEqual(afterPay.card, { ...before.card, balanceMinor: before.card!.balanceMinor - YEAR, heldMinor: 0 });
    });

    it('bound, both short: INSUFFICIENT_FUNDS, the phone is told (no code) and nothing moved', async () => {
      const before = await k.account(BOTH_SHORT);
      const seen = (await k.inbox(BOTH_SHORT)).length;
      const orderId = await k.order('vip-year');
      await k.payer(orderId, '13700137000');
      const failed = await k.until(orderId, 'failed');
      assert.equal(failed.failureCode, 'INSUFFICIENT_FUNDS');
      assert.deepEqual(await k.account(BOTH_SHORT), before);
      const told = await k.nextSms(BOTH_SHORT, seen);
      assert.match(told.text, /未扣款/, 'probing a number is never silent');
      assert.doesNotMatch(told.text, /\d{6}/, 'and it carries no code');
    });

    it('not bound: link SMS, possession code and payment on the phone page, fulfilled and extended', async () => {
      const before = await k.account(NOT_BOUND);
      assert.equal(before.quickPay, false);
      const [vipBefore] = (await k.tv('GET', '/v1/entitlements')).json();
      const seen = (await k.inbox(NOT_BOUND)).length;
      const orderId = await k.order('vip-year');
      const order = await k.payer(orderId, '+86 136 0013 6000');
      assert.equal(order.channel, 'wap_link');
      const link = await k.nextSms(NOT_BOUND, seen);
      assert.equal(link.from, '10690001');
      assert.match(link.text, /会员包年/);
      assert.match(link.text, /200\.00元/);
      assert.ok(link.text.includes(order.payUrl), 'the SMS carries the checkout link');

      const page = await fetch(order.payUrl);
      const html = await page.text();
      assert.equal(page.status, 200);
      assert.match(html, /¥200\.00/);
      assert.match(html, /会员包年/);
      assert.match(html, /tvpay/);
      assert.doesNotMatch(html, /13600136000/, 'the page shows the number masked');

      const phone = phoneBrowser(overHttp);
      const codePage = await phone.post(`${order.payUrl}/code?lang=en`);
      assert.equal(codePage.postStatus, 303, 'every form post answers with a redirect');
      assert.match(codePage.html, /name="code"/);
      assert.doesNotMatch(codePage.html, /name="session"|name="grant"/, 'no secret of the page is in its HTML');
      const reloaded = await phone.open(`${order.payUrl}?lang=en`);
      assert.match(reloaded.html, /name="code"/, 'a reload shows the code step again');
      const codeSms = await k.nextSms(NOT_BOUND, seen + 1);
      assert.equal((await k.inbox(NOT_BOUND)).length, seen + 2, 'the reload sent no second code');
      const wrong = await phone.post(`${order.payUrl}/verify?lang=en`, {
        code: k.codeIn(codeSms.text) === '000000' ? '111111' : '000000',
      });
      assert.equal(wrong.notice?.code, 'CODE_INCORRECT');
      assert.match(wrong.html, /That code is not right; 4 tries left\./);
      const zh = await phone.open(`${order.payUrl}?lang=zh-CN`);
      assert.doesNotMatch(zh.html, /That code/, 'the notice is shown once');
      const choose = await phone.post(`${order.payUrl}/verify?lang=zh-CN`, { code: k.codeIn(codeSms.text) });
      assert.equal(choose.status, 200, choose.html);
      assert.match(choose.html, /name="source"/);
      assert.match(choose.html, /<fieldset class="consent">/, 'quick pay is a consent of its own');
      assert.doesNotMatch(choose.html, /name="quickPay"[^>]*checked/, 'and it is not ticked');
      const grant = phone.jar.get('tvpay_pay_grant')!;
      const paid = await phone.post(`${order.payUrl}/pay?lang=zh-CN`, { source: 'wallet', quickPay: 'yes' });
      assert.equal(paid.status, 200, paid.html);
      assert.match(paid.html, /data-outcome="(paid|confirming)"/);
      assert.match(
        paid.html,
        new RegExp(`订单号</span><strong>${orderId.slice(-8)}`),
        'the success names the order number',
      );
      assert.match(paid.html, /付款方式<\/span><span>钱包余额/, 'and how it was paid');
      await k.until(orderId, 'fulfilled');

      const afterPay = await k.account(NOT_BOUND);
      assert.deepEqual(afterPay.wallet, { balanceMinor: before.wallet.balanceMinor - YEAR, heldMinor: 0 });
      assert.equal(afterPay.quickPay, true, 'agreeing to quick pay binds the phone');
      const [vip] = (await k.tv('GET', '/v1/entitlements')).json();
      assert.equal(vip.orderId, orderId);
      assert.equal(
        Date.parse(vip.validUntil),
        Date.parse(vipBefore.validUntil) + 365 * DAY,
        'an active service is extended from its end',
      );
      const again = await postPageForm(
        overHttp,
        `${order.payUrl}/pay`,
        { source: 'wallet' },
        { tvpay_pay_grant: grant },
      );
      assert.equal(again.notice?.code, 'ORDER_FINAL', 'a paid order cannot be paid twice');
      assert.deepEqual((await k.account(NOT_BOUND)).wallet, afterPay.wallet);
    });

    it('five wrong codes fail the payment with CONFIRMATION_FAILED and release the hold', async () => {
      const { before, orderId, code } = await orderHeldForCode(k, WALLET_COVERS, '13800138000');
      const wrong = code === '123456' ? '654321' : '123456';
      for (let i = 0; i < 4; i++) {
        await k.reply(WALLET_COVERS, wrong);
        assert.equal((await k.tv('GET', `/v1/orders/${orderId}`)).json().status, 'awaiting_payment');
      }
      await k.reply(WALLET_COVERS, wrong);
      const failed = await k.until(orderId, 'failed');
      assert.equal(failed.failureCode, 'CONFIRMATION_FAILED');
      await eventually(async () => assert.deepEqual((await k.account(WALLET_COVERS)).wallet, before.wallet));
      await k.reply(WALLET_COVERS, code);
      assert.equal((await k.tv('GET', `/v1/orders/${orderId}`)).json().status, 'failed');
      assert.deepEqual((await k.account(WALLET_COVERS)).wallet, before.wallet);
    });

    it('a cancelled order releases its hold and a late reply moves no money', async () => {
      const { before, orderId, code } = await orderHeldForCode(k, WALLET_COVERS, '13800138000');
      assert.equal((await k.account(WALLET_COVERS)).wallet.heldMinor, 2500);
      const cancelled = await k.tv('POST', `/v1/orders/${orderId}/cancel`);
      assert.equal(cancelled.json().status, 'cancelled');
      await eventually(async () => assert.equal((await k.account(WALLET_COVERS)).wallet.heldMinor, 0));
      await k.reply(WALLET_COVERS, code);
      assert.deepEqual((await k.account(WALLET_COVERS)).wallet, before.wallet);
      assert.equal((await k.tv('GET', `/v1/orders/${orderId}`)).json().status, 'cancelled');
    });

    it('concurrent payer submissions leave one pending payment, and it alone is paid', async () => {
      const phones = ['13800138000', '13900139000'];
      const before = await Promise.all(phones.map((ph) => k.account(`86${ph}`)));
      const orderId = await k.order('vip-month');
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) => k.tv('POST', `/v1/orders/${orderId}/payer`, { phone: phones[i % 2] })),
      );
      for (const r of results) assert.equal(r.status, 202, r.text);
      const held = async () =>
        (await Promise.all(phones.map((ph) => k.account(`86${ph}`)))).reduce(
          (s, a) => s + a.wallet.heldMinor + a.card!.heldMinor,
          0,
        );
      await eventually(async () => assert.equal(await held(), 2500, 'exactly one hold remains'));
      const payer = (await k.backendAdmin('GET', `/admin/v1/orders/${orderId}`)).json().payerPhone.slice(1);
      const code = k.codeIn((await k.inbox(payer)).at(-1)!.text);
      await k.reply(payer, code);
      await k.until(orderId, 'fulfilled');
      await eventually(async () => assert.equal(await held(), 0));
      const afterPay = await Promise.all(phones.map((ph) => k.account(`86${ph}`)));
      const spent =
        before.reduce((s, a) => s + a.wallet.balanceMinor + a.card!.balanceMinor, 0) -
        afterPay.reduce((s, a) => s + a.wallet.balanceMinor + a.card!.balanceMinor, 0);
      assert.equal(spent, 2500, 'the order was paid exactly once');
    });

    it('a duplicated or reordered payment notification changes nothing', async () => {
      const seen = (await k.inbox(WALLET_COVERS)).length;
      const orderId = await k.order('kids-app');
      await k.payer(orderId, '13800138000');
      await k.reply(WALLET_COVERS, k.codeIn((await k.nextSms(WALLET_COVERS, seen)).text));
      const fulfilled = await k.until(orderId, 'fulfilled');
      const ents = (await k.tv('GET', '/v1/entitlements')).json();

      const path = '/internal/v1/payment-events';
      const send = async (msg: object, nonce: string) => {
        const body = JSON.stringify(msg);
        const res = await fetch(`${p.urls.backend}${path}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...signRequest(p.secrets.serviceSecret, 'POST', path, body, new Date(), nonce),
          },
          body,
        });
        return { status: res.status, body: await res.json() };
      };
      const base = {
        orderId,
        attempt: 1,
        paymentId: 'pay_forged',
        amountMinor: 990,
        currency: 'CNY',
        failureCode: null,
        at: new Date().toISOString(),
      };
      const second = await send(
        { ...base, messageId: 'msg_second_payment', type: 'payment.completed' },
        'nonce-e2e-dup-0001',
      );
      assert.deepEqual(
        second.body,
        { result: 'rejected', duplicate: false },
        'a second payment for a fulfilled order is refused (and refunded)',
      );
      const repeat = await send(
        { ...base, messageId: 'msg_second_payment', type: 'payment.completed' },
        'nonce-e2e-dup-0002',
      );
      assert.deepEqual(repeat.body, { result: 'rejected', duplicate: true });
      const late = await send(
        { ...base, messageId: 'msg_late_failure', type: 'payment.failed', failureCode: 'CONFIRMATION_EXPIRED' },
        'nonce-e2e-dup-0003',
      );
      assert.deepEqual(
        late.body,
        { result: 'ignored', duplicate: false },
        'a failure arriving after the payment is ignored',
      );
      assert.deepEqual((await k.tv('GET', `/v1/orders/${orderId}`)).json(), fulfilled);
      assert.deepEqual((await k.tv('GET', '/v1/entitlements')).json(), ents, 'nothing was provisioned twice');
    });

    it('delivers a payment completed while the back-end was down once it is back', async () => {
      const before = await k.account(WALLET_COVERS);
      const seen = (await k.inbox(WALLET_COVERS)).length;
      const orderId = await k.order('kids-app');
      await k.payer(orderId, '13800138000');
      const code = k.codeIn((await k.nextSms(WALLET_COVERS, seen)).text);
      await p.stop('backend');
      await k.reply(WALLET_COVERS, code);
      await eventually(async () =>
        assert.equal((await k.account(WALLET_COVERS)).wallet.balanceMinor, before.wallet.balanceMinor - 990),
      );
      await p.start('backend');
      await k.until(orderId, 'fulfilled');
      assert.deepEqual((await k.account(WALLET_COVERS)).wallet, {
        balanceMinor: before.wallet.balanceMinor - 990,
        heldMinor: 0,
      });
    });
    it('never shows a TV its order older than its event stream has, whichever instance it reads from', async () => {
      const orderId = await k.order('kids-app');
      const [first, last] = [p.instanceUrls.backend[0]!, p.instanceUrls.backend.at(-1)!];
      const read = async (base: string) =>
        (
          await (
            await fetch(`${base}/v1/orders/${orderId}`, { headers: { authorization: `Bearer ${p.deviceToken}` } })
          ).json()
        ).status;
      // Read again and again where the stream is (the waiting TV's status read), so that instance keeps it.
      for (let i = 0; i < 3; i++) assert.equal(await read(last), 'created');
      const stream = await watchEvents(`${last}/v1/orders/${orderId}/events`, p.deviceToken);
      const cancelled = await fetch(`${first}/v1/orders/${orderId}/cancel`, {
        method: 'POST',
        headers: { authorization: `Bearer ${p.deviceToken}` },
      });
      assert.equal(cancelled.status, 200);
      assert.equal((await stream.done).at(-1), 'cancelled');
      assert.equal(
        await read(last),
        'cancelled',
        'the status read is as new as the stream the moment the stream has shown it',
      );
    });

    it('honours an Idempotency-Key whichever instance the retry reaches', async () => {
      const [first, second] = [p.instanceUrls.backend[0]!, p.instanceUrls.backend.at(-1)!];
      const post = (base: string) =>
        fetch(`${base}/v1/orders`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${p.deviceToken}`,
            'content-type': 'application/json',
            'idempotency-key': `k-${setup.instances}`,
          },
          body: JSON.stringify({ productId: 'kids-app' }),
        }).then(async (r) => ({ status: r.status, body: await r.json() }));
      const a = await post(first);
      const b = await post(second);
      assert.equal(a.status, 201);
      assert.equal(b.status, 201);
      assert.equal(b.body.orderId, a.body.orderId);
    });

    it('leaves a sound ledger after every path: each entry balanced, holds and balances as posted', async () => {
      await k.assertLedgerSound();
    });
  });
}

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventually } from '../support/eventually.ts';
import { accountByPhone, latestCode, smsCount } from '../support/flows.ts';
import { overInject, phoneBrowser, postPageForm } from '../support/phone-browser.ts';
import { lifted, suiteSystem } from '../support/system.ts';

const UNBOUND = '8613600136000';
const sys = suiteSystem(lifted(['PAYER_PER_PHONE', 'CODES_PER_PHONE', 'CODES_PER_DEVICE']));

/** A pay form posted by a tab that holds this grant. */
const payAs = (token: string, grant: string, source: 'wallet' | 'card') =>
  postPageForm(overInject(sys.payserver.app), `/pay/${token}/pay?lang=en`, { source }, { tvpay_pay_grant: grant });

/** An order of the demo TV waiting on the unbound phone's checkout page; returns its link token. */
async function pageOrder() {
  const created = await sys.tv('POST', '/v1/orders', { productId: 'vip-month' });
  const orderId = created.json().orderId;
  const order = (await sys.tv('POST', `/v1/orders/${orderId}/payer`, { phone: '13600136000' })).json();
  return { orderId, token: String(order.payUrl).split('/pay/')[1]! };
}

/** Proves the phone on the page and returns a grant to pay with. */
async function grantFor(token: string) {
  const { checkout } = sys.payserver.services;
  const seen = await smsCount(sys, UNBOUND);
  const session = await checkout.sendCode(token);
  return checkout.verify(token, session, await latestCode(sys, UNBOUND, seen));
}

describe('checkout page races', () => {
  it('tells the loser of two page payments made at once that the order is being paid or is paid, and takes the money once', async () => {
    const before = await accountByPhone(sys, `+${UNBOUND}`);
    const { orderId, token } = await pageOrder();
    const g1 = await grantFor(token);
    const g2 = await grantFor(token);
    const [a, b] = await Promise.all([payAs(token, g1, 'wallet'), payAs(token, g2, 'card')]);
    assert.deepEqual([a.status, b.status], [303, 303]);
    const refused = [a, b].filter((x) => x.notice && x.notice.code !== 'CONFIRMING');
    assert.equal(refused.length, 1, JSON.stringify([a.notice, b.notice]));
    assert.ok(['PAYMENT_IN_PROGRESS', 'ORDER_FINAL'].includes(refused[0]!.notice!.code), refused[0]!.notice!.code);
    await eventually(async () =>
      assert.equal((await sys.tv('GET', `/v1/orders/${orderId}`)).json().status, 'fulfilled'),
    );
    const afterwards = await accountByPhone(sys, `+${UNBOUND}`);
    const spent =
      before.wallet.balanceMinor -
      afterwards.wallet.balanceMinor +
      (before.card!.balanceMinor - afterwards.card!.balanceMinor);
    assert.equal(spent, 2500, 'charged once');
    assert.equal(afterwards.wallet.heldMinor + afterwards.card!.heldMinor, 0);
  });

  it('says the money went back, not "Paid", when the TV cancelled the order while the page was paying', async () => {
    const before = await accountByPhone(sys, `+${UNBOUND}`);
    const { orderId, token } = await pageOrder();
    const grant = await grantFor(token);
    // The cancel's close message has not reached the payment server yet: the page can still capture.
    await sys.backend.worker.stop();
    try {
      assert.equal((await sys.tv('POST', `/v1/orders/${orderId}/cancel`)).json().status, 'cancelled');
      const paid = phoneBrowser(overInject(sys.payserver.app));
      paid.jar.set('tvpay_pay_grant', grant);
      const landed = await paid.post(`/pay/${token}/pay?lang=en`, { source: 'wallet' });
      assert.equal(landed.postStatus, 303);
      // The page waits a few seconds for the merchant's verdict; on a loaded machine it may land on
      // "confirming" first. Either way it never says "Paid", and then says the money went back.
      assert.match(landed.html, /data-outcome="(refunded|confirming)"/);
      assert.doesNotMatch(landed.html, /Paid\./);
      await eventually(async () => {
        const later = await sys.payserver.app.inject({ url: `/pay/${token}?lang=en` });
        assert.match(later.body, /went back/, 'the page says the money went back, and keeps saying so');
        assert.doesNotMatch(later.body, /Paid\./);
      });
    } finally {
      sys.backend.worker.start();
    }
    const afterwards = await accountByPhone(sys, `+${UNBOUND}`);
    assert.deepEqual(afterwards.wallet, before.wallet, 'the wallet is as it was');
  });

  it('says an order the merchant refunded after it was paid was paid and then refunded: how much and where to, in both languages', async () => {
    const { orderId, token } = await pageOrder();
    const landed = await payAs(token, await grantFor(token), 'card');
    assert.equal(landed.status, 303);
    await eventually(async () =>
      assert.equal((await sys.tv('GET', `/v1/orders/${orderId}`)).json().status, 'fulfilled'),
    );
    const refund = await sys.backendAdmin('POST', `/admin/v1/orders/${orderId}/refunds`, { reason: 'goodwill' });
    assert.equal(refund.statusCode, 201, refund.body);
    await eventually(async () =>
      assert.equal((await sys.tv('GET', `/v1/orders/${orderId}`)).json().status, 'refunded'),
    );
    const en = (await sys.payserver.app.inject({ url: `/pay/${token}?lang=en` })).body;
    assert.match(en, /data-outcome="merchant-refunded"/);
    assert.match(en, /refunded by the merchant/);
    assert.match(en, /25\.00/, 'the amount');
    assert.match(en, /Card ending 3456/, 'where it went');
    assert.doesNotMatch(en, /had already ended/);
    const zh = (await sys.payserver.app.inject({ url: `/pay/${token}?lang=zh-CN` })).body;
    assert.match(zh, /商户已退款/);
    assert.match(zh, /尾号3456/);
    assert.doesNotMatch(zh, /付款时已结束/);
  });
});

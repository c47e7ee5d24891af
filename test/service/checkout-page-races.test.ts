import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/eventually.ts';
import { accountByPhone, latestCode, smsCount } from '../support/flows.ts';
import { testSystem, type TestSystem } from '../support/system.ts';

const UNBOUND = '8613600136000';
let sys: TestSystem;
before(async () => {
  sys = await testSystem({ TVPAY_LIMIT_PAYER_PER_PHONE: '1000', TVPAY_LIMIT_CODES_PER_PHONE: '1000', TVPAY_LIMIT_CODES_PER_DEVICE: '1000' });
});
after(() => sys.close());

const postForm = (url: string, fields: Record<string, string>) =>
  sys.payserver.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(fields).toString() });

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
  it('answers the loser of two page payments made at once with a 409 page, and takes the money once', async () => {
    const before = await accountByPhone(sys, `+${UNBOUND}`);
    const { orderId, token } = await pageOrder();
    const g1 = await grantFor(token);
    const g2 = await grantFor(token);
    const [a, b] = await Promise.all([
      postForm(`/pay/${token}/pay?lang=en`, { grant: g1, source: 'wallet' }),
      postForm(`/pay/${token}/pay?lang=en`, { grant: g2, source: 'card' }),
    ]);
    assert.deepEqual([a.statusCode, b.statusCode].sort(), [200, 409], `${a.statusCode} ${b.statusCode}`);
    await eventually(async () => assert.equal((await sys.tv('GET', `/v1/orders/${orderId}`)).json().status, 'fulfilled'));
    const afterwards = await accountByPhone(sys, `+${UNBOUND}`);
    const spent = before.wallet.balanceMinor - afterwards.wallet.balanceMinor + (before.card!.balanceMinor - afterwards.card!.balanceMinor);
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
      const paid = await postForm(`/pay/${token}/pay?lang=en`, { grant, source: 'wallet' });
      assert.equal(paid.statusCode, 200);
      assert.match(paid.body, /data-outcome="refunded"/);
      assert.doesNotMatch(paid.body, /Paid\./);
      const later = await sys.payserver.app.inject({ url: `/pay/${token}?lang=en` });
      assert.match(later.body, /went back/, 'the page keeps saying so afterwards');
    } finally {
      sys.backend.worker.start();
    }
    const afterwards = await accountByPhone(sys, `+${UNBOUND}`);
    assert.deepEqual(afterwards.wallet, before.wallet, 'the wallet is as it was');
  });
});

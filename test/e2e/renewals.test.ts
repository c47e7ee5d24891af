import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/eventually.ts';
import { freshServiceDatabases, pgSkip } from '../support/pg.ts';
import { startProcesses, type Processes } from '../support/processes.ts';
import { e2eKit } from './e2e-kit.ts';

const WALLET_COVERS = '8613800138000';
const DAY_S = 24 * 3600;
const skip = await pgSkip();

describe('renewals on PostgreSQL with two instances of each service running the scheduler', { skip }, () => {
  let p: Processes;
  let k: ReturnType<typeof e2eKit>;
  const dbs: Array<{ drop(): Promise<void> }> = [];
  before(async () => {
    const pg = await freshServiceDatabases();
    dbs.push(pg);
    p = await startProcesses({ ...pg.env, TVPAY_TEST_CLOCK: '1' }, { instances: 2 });
    k = e2eKit(p);
  });
  after(async () => {
    await p?.close();
    for (const d of dbs) await d.drop();
  });

  /** Each process has its own test clock: move every service instance's by the same amount. */
  async function moveAllClocks(seconds: number) {
    for (const base of [...p.instanceUrls.payserver, ...p.instanceUrls.backend]) {
      const res = await fetch(`${base}/admin/v1/test-clock`, { method: 'POST', headers: { authorization: `Bearer ${p.secrets.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ advanceSeconds: seconds }) });
      assert.equal(res.status, 200, await res.text());
    }
  }

  it('charges a due renewal exactly once although both back-ends run the scheduler', async () => {
    const tv = await k.newTv('renewal-race-tv');
    const orderId = (await tv('POST', '/v1/orders', { productId: 'uhd-monthly' })).json().orderId as string;
    const seen = (await k.inbox(WALLET_COVERS)).length;
    assert.equal((await tv('POST', `/v1/orders/${orderId}/payer`, { phone: WALLET_COVERS })).status, 202);
    await k.reply(WALLET_COVERS, k.codeIn((await k.nextSms(WALLET_COVERS, seen)).text));
    const [sub] = await eventually(async () => {
      const list = (await tv('GET', '/v1/subscriptions')).json();
      assert.equal(list.length, 1);
      return list;
    }, 15_000);
    const before = await k.account(`+${WALLET_COVERS}`);
    await moveAllClocks(31 * DAY_S);
    await eventually(async () => assert.notEqual((await tv('GET', '/v1/subscriptions')).json()[0].currentPeriodEnd, sub.currentPeriodEnd, 'renewed'), 30_000, 200);
    // Give the other instance every chance to charge a second time.
    await new Promise((r) => setTimeout(r, 3000));
    const renewals = (await k.backendAdmin('GET', '/admin/v1/orders?accountId=acct-renewal-race-tv&limit=50')).json().items.filter((o: { channel: string }) => o.channel === 'renewal');
    assert.equal(renewals.length, 1, 'one renewal order');
    assert.equal(renewals[0].status, 'fulfilled');
    assert.equal((await k.account(`+${WALLET_COVERS}`)).wallet.balanceMinor, before.wallet.balanceMinor - 3000, 'one charge');
    const payments = (await k.payAdmin('GET', `/admin/v1/payments?orderId=${renewals[0].orderId}`)).json();
    assert.equal(payments.length, 1);
    assert.equal(payments[0].method, 'renewal');
    await k.assertLedgerSound();
  });
});

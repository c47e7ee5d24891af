import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createOrder, latestCode, orderStatus, accountByPhone } from '../support/flows.ts';
import { freshServiceDatabases, pgSkip } from '../support/pg.ts';
import { testSystem, type TestSystem } from '../support/system.ts';

const skip = await pgSkip();
describe('the bound flow on PostgreSQL', { skip }, () => {
  let sys: TestSystem;
  const dbs: Array<{ drop(): Promise<void> }> = [];
  before(async () => {
    const pg = await freshServiceDatabases();
    dbs.push(pg);
    sys = await testSystem({ ...pg.env });
  });
  after(async () => {
    await sys?.close();
    for (const d of dbs) await d.drop();
  });
  it('pays from the wallet and fulfils', async () => {
    const before = await accountByPhone(sys, '+8613800138000');
    const orderId = await createOrder(sys, 'vip-year');
    await sys.tv('POST', `/v1/orders/${orderId}/payer`, { phone: '13800138000' });
    await sys.carrier.carrier.reply('8613800138000', await latestCode(sys, '8613800138000'));
    await orderStatus(sys, orderId, 'fulfilled');
    const afterPay = await accountByPhone(sys, '+8613800138000');
    assert.equal(afterPay.wallet.balanceMinor, before.wallet.balanceMinor - 20000);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createOrder, latestCode, orderStatus, accountByPhone, newTv } from '../support/flows.ts';
import { freshServiceDatabases, pgSkip } from '../support/pg.ts';
import { recordPgWire, type SentStatement } from '../support/pg-wire.ts';
import { testSystem, type TestSystem } from '../support/system.ts';

const skip = await pgSkip();
describe('the bound flow on PostgreSQL', { skip }, () => {
  let sys: TestSystem;
  const dbs: Array<{ drop(): Promise<void> }> = [];
  // From before the system starts: a statement is named at its Parse, once per connection.
  const wire = recordPgWire();
  before(async () => {
    const pg = await freshServiceDatabases();
    dbs.push(pg);
    sys = await testSystem({ ...pg.env });
  });
  after(async () => {
    wire.stop();
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

  it("takes the day's SMS budget last in the pre-pay's unit of work, so its one row is locked through COMMIT only", async () => {
    const orderId = await createOrder(sys, 'kids-app');
    const from = wire.sent.length;
    await sys.tv('POST', `/v1/orders/${orderId}/payer`, { phone: '13800138000' });
    await latestCode(sys, '8613800138000');
    const unit = unitHolding(wire.sent.slice(from), 'insert into "payments"');
    assert.ok(unit, 'a unit of work inserted the payment');
    const [last, commit] = unit.slice(-2).map((x) => x.text);
    assert.match(commit ?? '', /^commit/i, 'the unit ends with its COMMIT');
    assert.match(last ?? '', /^insert into "rate_limits"/, `the budget is taken last, got: ${last}`);
    const takes = unit.filter((x) => x.text.startsWith('insert into "rate_limits"'));
    assert.equal(takes.length, 2, 'the code-send limits first, the budget last, and no other take');
  });

  it('replaces an open order on a new one, and creates every one of twenty made at once, leaving one open', async () => {
    for (let round = 0; round < 4; round++) {
      const tv = await newTv(sys, `racing on PostgreSQL ${round}`);
      const first = (await tv('POST', '/v1/orders', { productId: 'kids-app' })).json();
      const second = (await tv('POST', '/v1/orders', { productId: 'kids-app' })).json();
      const replaced = (await tv('GET', `/v1/orders/${first.orderId}`)).json();
      assert.deepEqual([replaced.status, replaced.failureCode], ['cancelled', 'REPLACED']);
      const made = await Promise.all(
        Array.from({ length: 20 }, () => tv('POST', '/v1/orders', { productId: 'kids-app' })),
      );
      assert.ok(
        made.every((m) => m.statusCode === 201),
        `round ${round}: ${made.map((m) => m.statusCode).join(',')}`,
      );
      const ids = [second.orderId, ...made.map((m) => m.json().orderId as string)];
      const statuses = await Promise.all(ids.map(async (id) => (await tv('GET', `/v1/orders/${id}`)).json().status));
      assert.equal(statuses.filter((s) => s === 'created').length, 1, statuses.join(','));
    }
  });
});

/** The statements of the first unit of work (BEGIN to COMMIT on one connection) that sent a statement like `like`. */
function unitHolding(sent: SentStatement[], like: string): SentStatement[] | undefined {
  const at = sent.findIndex((x) => x.inTransaction && x.text.startsWith(like));
  if (at < 0) return undefined;
  const mine = sent.filter((x) => x.connection === sent[at]!.connection);
  const here = mine.indexOf(sent[at]!);
  const begin = here - [...mine.slice(0, here + 1)].reverse().findIndex((x) => /^begin/i.test(x.text));
  const commit = mine.findIndex((x, i) => i > here && /^(commit|rollback)/i.test(x.text));
  return mine.slice(begin + 1, commit + 1);
}

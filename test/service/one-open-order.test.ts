import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/eventually.ts';
import { accountByPhone, latestCode, newTv, smsCount } from '../support/flows.ts';
import { testSystem, type TestSystem } from '../support/system.ts';

let sys: TestSystem;
before(async () => {
  sys = await testSystem({ TVPAY_LIMIT_ORDERS_PER_DEVICE: '12' });
});
after(() => sys.close());

const A = '8613800138000';

describe('one open order per TV', () => {
  it('ends the previous open order when the TV creates a new one, releasing its hold and refunding a code replied to late', async () => {
    const tv = await newTv(sys, 'replacing');
    const before = await accountByPhone(sys, `+${A}`);
    const first = (await tv('POST', '/v1/orders', { productId: 'vip-month' })).json().orderId;
    const seen = await smsCount(sys, A);
    assert.equal((await tv('POST', `/v1/orders/${first}/payer`, { phone: '13800138000' })).statusCode, 202);
    const code = await latestCode(sys, A, seen);
    assert.equal((await accountByPhone(sys, `+${A}`)).wallet.heldMinor, before.wallet.heldMinor + 2500);
    const second = await tv('POST', '/v1/orders', { productId: 'kids-app' });
    assert.equal(second.statusCode, 201);
    const old = (await tv('GET', `/v1/orders/${first}`)).json();
    assert.deepEqual(
      { status: old.status, failureCode: old.failureCode },
      { status: 'cancelled', failureCode: 'REPLACED' },
    );
    await eventually(async () =>
      assert.equal(
        (await accountByPhone(sys, `+${A}`)).wallet.heldMinor,
        before.wallet.heldMinor,
        'the hold is released',
      ),
    );
    await sys.carrier.carrier.reply(A, code);
    // Whatever the reply set off is delivered before looking.
    await sys.payserver.worker.drain();
    await sys.backend.worker.drain();
    assert.equal((await tv('GET', `/v1/orders/${first}`)).json().status, 'cancelled');
    assert.deepEqual(
      (await accountByPhone(sys, `+${A}`)).wallet,
      before.wallet,
      'nothing was taken for the replaced order',
    );
  });

  it('leaves exactly one open order when a TV creates ten at once', async () => {
    const tv = await newTv(sys, 'racing');
    const made = await Promise.all(
      Array.from({ length: 10 }, () => tv('POST', '/v1/orders', { productId: 'kids-app' })),
    );
    assert.ok(
      made.every((m) => m.statusCode === 201),
      made.map((m) => m.statusCode).join(','),
    );
    const statuses = await Promise.all(
      made.map(async (m) => (await tv('GET', `/v1/orders/${m.json().orderId}`)).json().status),
    );
    assert.equal(statuses.filter((s) => s === 'created').length, 1, statuses.join(','));
  });

  it('refuses orders past the per-TV limit of the window with a 429 problem', async () => {
    const tv = await newTv(sys, 'flooding');
    const answers = [];
    for (let i = 0; i < 14; i++) answers.push(await tv('POST', '/v1/orders', { productId: 'kids-app' }));
    assert.equal(answers.filter((a) => a.statusCode === 201).length, 12);
    const refused = answers.at(-1)!;
    assert.equal(refused.statusCode, 429);
    assert.equal(refused.json().code, 'RATE_LIMITED');
    assert.ok(Number(refused.headers['retry-after']) > 0, "Number(refused.headers['retry-after']) > 0");
  });
});

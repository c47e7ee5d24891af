import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testSystem, type Injected, type TestSystem } from '../support/system.ts';

let sys: TestSystem;
before(async () => {
  sys = await testSystem();
});
after(() => sys.close());

function problem(res: Injected, status: number, code: string) {
  assert.equal(res.statusCode, status, res.body);
  assert.match(String(res.headers['content-type']), /application\/problem\+json/);
  assert.equal(res.json().code, code);
}

const account = {
  phone: '13500135000',
  currency: 'CNY',
  walletMinor: 1000,
  card: { last4: '4321', balanceMinor: 2000 },
  quickPay: true,
};

describe('payment server accounts', () => {
  it('opens an account with a wallet and a linked card', async () => {
    const res = await sys.payAdmin('POST', '/admin/v1/accounts', account);
    assert.equal(res.statusCode, 201, res.body);
    const a = res.json();
    assert.equal(a.phone, '+8613500135000');
    assert.equal(a.quickPay, true);
    assert.deepEqual(a.wallet, { balanceMinor: 1000, heldMinor: 0 });
    assert.deepEqual(a.card, { last4: '4321', balanceMinor: 2000, heldMinor: 0 });
    const read = await sys.payAdmin('GET', `/admin/v1/accounts/${a.accountId}`);
    assert.deepEqual(read.json(), a);
  });
  it('opens an account without a card', async () => {
    const res = await sys.payAdmin('POST', '/admin/v1/accounts', {
      phone: '13500135001',
      currency: 'CNY',
      walletMinor: 0,
    });
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.json().card, null);
    assert.equal(res.json().quickPay, false);
  });
  it('refuses a second account for the same phone with 409 ACCOUNT_EXISTS', async () => {
    problem(
      await sys.payAdmin('POST', '/admin/v1/accounts', { ...account, phone: '+86 135 0013 5000' }),
      409,
      'ACCOUNT_EXISTS',
    );
  });
  it('refuses bad balances, phones and fields and opens nothing', async () => {
    const phone = '13500135009';
    for (const body of [
      { ...account, phone, walletMinor: -1 },
      { ...account, phone, walletMinor: 1.5 },
      { ...account, phone, walletMinor: 100000001 },
      { ...account, phone, walletMinor: '10' },
      { ...account, phone, card: { last4: '12', balanceMinor: 1 } },
      { ...account, phone, card: { last4: '1234', balanceMinor: -5 } },
      { ...account, phone, quickPay: 'yes' },
      { ...account, phone, extra: 1 },
      { phone, currency: 'CNY' },
    ]) {
      problem(await sys.payAdmin('POST', '/admin/v1/accounts', body), 400, 'VALIDATION_FAILED');
    }
    for (const bad of ['12345', '01012345678', '+14155552671'])
      problem(await sys.payAdmin('POST', '/admin/v1/accounts', { ...account, phone: bad }), 400, 'PHONE_INVALID');
    problem(
      await sys.payAdmin('POST', '/admin/v1/accounts', { ...account, phone, currency: 'XYZ' }),
      400,
      'CURRENCY_UNSUPPORTED',
    );
    assert.equal(await sys.payserver.services.accounts.findByPhone('+8613500135009' as never), undefined);
  });
  it('credits a wallet from outside', async () => {
    const a = (
      await sys.payAdmin('POST', '/admin/v1/accounts', { phone: '13500135002', currency: 'CNY', walletMinor: 100 })
    ).json();
    const res = await sys.payAdmin('POST', `/admin/v1/accounts/${a.accountId}/credits`, {
      target: 'wallet',
      amountMinor: 900,
    });
    assert.equal(res.json().wallet.balanceMinor, 1000);
    problem(
      await sys.payAdmin('POST', `/admin/v1/accounts/${a.accountId}/credits`, { target: 'card', amountMinor: 900 }),
      404,
      'CARD_NOT_FOUND',
    );
    problem(
      await sys.payAdmin('POST', `/admin/v1/accounts/${a.accountId}/credits`, { target: 'wallet', amountMinor: 0 }),
      400,
      'VALIDATION_FAILED',
    );
  });
  it('answers an unknown account with 404 and refuses requests without the admin token', async () => {
    problem(await sys.payAdmin('GET', '/admin/v1/accounts/acc_missing'), 404, 'ACCOUNT_NOT_FOUND');
    problem(await sys.payserverAs(undefined)('GET', '/admin/v1/accounts/acc_missing'), 401, 'UNAUTHORIZED');
    problem(await sys.payserverAs('wrong')('POST', '/admin/v1/accounts', account), 401, 'UNAUTHORIZED');
  });
  it('replays an account creation with the same Idempotency-Key instead of failing', async () => {
    const body = { phone: '13500135003', currency: 'CNY', walletMinor: 10 };
    const headers = { 'idempotency-key': 'acct-3' };
    const a = await sys.payAdmin('POST', '/admin/v1/accounts', body, headers);
    const b = await sys.payAdmin('POST', '/admin/v1/accounts', body, headers);
    assert.equal(a.statusCode, 201);
    assert.equal(b.statusCode, 201);
    assert.equal(b.json().accountId, a.json().accountId);
    problem(
      await sys.payAdmin('POST', '/admin/v1/accounts', { ...body, walletMinor: 11 }, headers),
      422,
      'IDEMPOTENCY_KEY_REUSED',
    );
  });
});

describe('gateway routes', () => {
  it('takes an inbound SMS with the right token and answers 200 with an empty body', async () => {
    const url = `/v1/sms/inbound?token=${encodeURIComponent(sys.secrets.smsInboundToken)}&from=8613800138000&to=10690000&text=${encodeURIComponent('hello')}`;
    const res = await sys.payserver.app.inject({ url });
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, '');
  });
  it('refuses an inbound SMS with a missing or wrong token', async () => {
    problem(
      (await sys.payserver.app.inject({ url: '/v1/sms/inbound?from=8613800138000&text=123456' })) as Injected,
      401,
      'UNAUTHORIZED',
    );
    problem(
      (await sys.payserver.app.inject({
        url: '/v1/sms/inbound?token=nope&from=8613800138000&text=123456',
      })) as Injected,
      401,
      'UNAUTHORIZED',
    );
  });
  it('answers an unknown payment link with a 404 page', async () => {
    const res = await sys.payserver.app.inject({ url: '/pay/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' });
    assert.equal(res.statusCode, 404);
    assert.match(String(res.headers['content-type']), /text\/html/);
  });
  it('refuses the internal API without a signature', async () => {
    const res = (await sys.payserver.app.inject({
      method: 'POST',
      url: '/internal/v1/bindings/lookup',
      payload: { phone: '13800138000' },
    })) as Injected;
    problem(res, 401, 'SIGNATURE_INVALID');
  });
});

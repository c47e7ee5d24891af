import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ledgerKit } from './ledger-test-kit.ts';

describe('ledger', () => {
  it('credits from the external account with postings that sum to zero', async () => {
    const k = await ledgerKit();
    const wallet = await k.open('wallet');
    await k.ledger.credit(k.db, wallet, 5000, 'acc_1');
    const b = await k.balances();
    assert.equal(b[wallet]!.balance, 5000);
    assert.equal(b['la_external_CNY']!.balance, -5000);
    assert.equal(await k.postingsSum(), 0);
    await k.close();
  });

  it('reserves only what is available and changes nothing when it is not', async () => {
    const k = await ledgerKit();
    const wallet = await k.open('wallet');
    await k.ledger.credit(k.db, wallet, 5000, 'acc_1');
    const hold = await k.ledger.reserve(k.db, wallet, 3000, 'pay_1');
    assert.ok(hold, 'hold');
    assert.equal(await k.ledger.reserve(k.db, wallet, 2001, 'pay_2'), null);
    const b = await k.balances();
    assert.deepEqual(b[wallet], { kind: 'wallet', balance: 5000, held: 3000 });
    assert.equal((await k.db.selectFrom('holds').selectAll().execute()).length, 1);
    await k.close();
  });

  it('captures a hold into the merchant account exactly once', async () => {
    const k = await ledgerKit();
    const wallet = await k.open('wallet');
    await k.ledger.credit(k.db, wallet, 5000, 'acc_1');
    const hold = (await k.ledger.reserve(k.db, wallet, 2000, 'pay_1'))!;
    assert.equal(await k.ledger.capture(k.db, hold), true);
    assert.equal(await k.ledger.capture(k.db, hold), false);
    assert.equal(await k.ledger.release(k.db, hold), false);
    const b = await k.balances();
    assert.deepEqual(b[wallet], { kind: 'wallet', balance: 3000, held: 0 });
    assert.equal(b['la_merchant_CNY']!.balance, 2000);
    assert.equal(await k.postingsSum(), 0);
    await k.close();
  });

  it('releases a hold exactly once and moves no money', async () => {
    const k = await ledgerKit();
    const wallet = await k.open('wallet');
    await k.ledger.credit(k.db, wallet, 5000, 'acc_1');
    const hold = (await k.ledger.reserve(k.db, wallet, 2000, 'pay_1'))!;
    assert.equal(await k.ledger.release(k.db, hold), true);
    assert.equal(await k.ledger.release(k.db, hold), false);
    assert.equal(await k.ledger.capture(k.db, hold), false);
    assert.deepEqual((await k.balances())[wallet], { kind: 'wallet', balance: 5000, held: 0 });
    await k.close();
  });

  it('refunds a captured hold back to its account', async () => {
    const k = await ledgerKit();
    const card = await k.open('card');
    await k.ledger.credit(k.db, card, 5000, 'acc_1');
    const hold = (await k.ledger.reserve(k.db, card, 2000, 'pay_1'))!;
    await k.ledger.capture(k.db, hold);
    await k.ledger.refund(k.db, hold, 'pay_1');
    const b = await k.balances();
    assert.equal(b[card]!.balance, 5000);
    assert.equal(b['la_merchant_CNY']!.balance, 0);
    assert.equal(await k.postingsSum(), 0);
    await k.close();
  });

  it('refuses non-positive or fractional amounts', async () => {
    const k = await ledgerKit();
    const wallet = await k.open('wallet');
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      await assert.rejects(k.ledger.credit(k.db, wallet, bad, 'x'), /positive whole number/);
      await assert.rejects(k.ledger.reserve(k.db, wallet, bad, 'x'), /positive whole number/);
    }
    await k.close();
  });

  it('is protected by the database too: no account may be driven below what it holds', async () => {
    const k = await ledgerKit();
    const wallet = await k.open('wallet');
    await assert.rejects(
      k.db.updateTable('ledger_accounts').set({ balance_minor: -1 }).where('id', '=', wallet).execute(),
      /CHECK|constraint/i,
    );
    await k.close();
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Kysely } from 'kysely';
import type { PayserverTables } from '../schema.ts';
import { Ledger, merchantBalance } from './ledger.ts';
import { ledgerKit } from './ledger-test-kit.ts';

/** A ledger with a bug: it hands its own journal-entry writer whatever postings a test gives it. */
class BuggyLedger extends Ledger {
  postAsIs(trx: Kysely<PayserverTables>, postings: Array<{ id: string; amount: number }>) {
    return this.post(trx, 'buggy', 'ref_1', postings);
  }
}

/** Everything the ledger has written, to compare before and after a refused call. */
async function written(k: Awaited<ReturnType<typeof ledgerKit>>) {
  const rows = async (table: 'journal_entries' | 'postings' | 'holds') =>
    (await k.db.selectFrom(table).selectAll().execute()).map((r) => JSON.stringify(r)).sort();
  return {
    balances: await k.balances(),
    entries: await rows('journal_entries'),
    postings: await rows('postings'),
    holds: await rows('holds'),
  };
}

/** A kit with a wallet of 5000, 2000 of it captured by a hold. */
async function capturedHold() {
  const k = await ledgerKit();
  const wallet = await k.open('wallet');
  await k.ledger.credit(k.db, wallet, 5000, 'acc_1');
  const hold = (await k.ledger.reserve(k.db, wallet, 2000, 'pay_1'))!;
  assert.equal(await k.ledger.capture(k.db, hold), true);
  return { k, wallet, hold };
}

describe('ledger invariants', () => {
  it('refuses a journal entry whose postings do not sum to zero, naming it, and writes nothing', async (t) => {
    const k = await ledgerKit();
    t.after(() => k.close());
    const wallet = await k.open('wallet');
    await k.ledger.credit(k.db, wallet, 5000, 'acc_1');
    const buggy = new BuggyLedger({ id: (prefix: string) => `${prefix}_buggy` } as never, k.clock);
    const before = await written(k);
    await assert.rejects(
      buggy.postAsIs(k.db, [
        { id: wallet, amount: -100 },
        { id: 'la_merchant_CNY', amount: 99 },
      ]),
      (err: Error) =>
        !('code' in err) && /journal entry je_buggy \(buggy ref_1\) does not balance: sums to -1/.test(err.message),
    );
    assert.deepEqual(await written(k), before);
  });

  it('refuses a journal entry with a fractional, zero or single posting, and writes nothing', async (t) => {
    const k = await ledgerKit();
    t.after(() => k.close());
    const wallet = await k.open('wallet');
    await k.ledger.credit(k.db, wallet, 5000, 'acc_1');
    const merchant = await k.ledger.systemAccount(k.db, 'merchant', 'CNY');
    const buggy = new BuggyLedger({ id: (prefix: string) => `${prefix}_buggy` } as never, k.clock);
    const before = await written(k);
    const broken = [
      [
        { id: wallet, amount: -0.5 },
        { id: merchant, amount: 0.5 },
      ],
      [
        { id: wallet, amount: 0 },
        { id: merchant, amount: 0 },
      ],
      [{ id: wallet, amount: 0 }],
      [],
    ];
    for (const postings of broken) {
      await assert.rejects(buggy.postAsIs(k.db, postings), /ledger invariant broken: journal entry je_buggy/);
    }
    assert.deepEqual(await written(k), before);
  });

  it('refuses in the ledger a refund that would take a hold past what it captured, and writes nothing', async (t) => {
    const { k, hold } = await capturedHold();
    t.after(() => k.close());
    await k.ledger.refund(k.db, hold, 'ref_1', 1500);
    const before = await written(k);
    await assert.rejects(
      k.ledger.refund(k.db, hold, 'ref_2', 501),
      new RegExp(`refund ref_2 of 501 would take hold ${hold} past what it captured \\(2000, of which 1500`),
    );
    assert.deepEqual(await written(k), before);
    await k.ledger.refund(k.db, hold, 'ref_3', 500);
    assert.equal(await merchantBalance(k.db, 'CNY'), 0, 'the merchant gave back all it took (its sub-accounts summed)');
    assert.equal(await k.postingsSum(), 0);
  });

  it('refuses a second whole refund of the same hold, and writes nothing', async (t) => {
    const { k, hold, wallet } = await capturedHold();
    t.after(() => k.close());
    await k.ledger.refund(k.db, hold, 'ref_1');
    const before = await written(k);
    await assert.rejects(k.ledger.refund(k.db, hold, 'ref_2'), /past what it captured/);
    assert.deepEqual(await written(k), before);
    assert.equal(before.balances[wallet]!.balance, 5000);
  });

  it('refuses a refund of a hold that was released or never existed, and writes nothing', async (t) => {
    const k = await ledgerKit();
    t.after(() => k.close());
    const wallet = await k.open('wallet');
    await k.ledger.credit(k.db, wallet, 5000, 'acc_1');
    const hold = (await k.ledger.reserve(k.db, wallet, 2000, 'pay_1'))!;
    await k.ledger.release(k.db, hold);
    const before = await written(k);
    await assert.rejects(k.ledger.refund(k.db, hold, 'ref_1', 100), /in status released/);
    await assert.rejects(k.ledger.refund(k.db, 'hold_none', 'ref_2', 100), /hold hold_none, which does not exist/);
    assert.deepEqual(await written(k), before);
  });
});

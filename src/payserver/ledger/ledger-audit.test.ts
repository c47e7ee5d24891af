import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { auditLedger } from './ledger-audit.ts';
import { ledgerKit } from './ledger-test-kit.ts';

describe('ledger audit', () => {
  it('finds nothing wrong after credits, holds, captures, releases and refunds', async () => {
    const k = await ledgerKit();
    const wallet = await k.open('wallet');
    await k.ledger.credit(k.db, wallet, 5000, 'acc_1');
    const a = (await k.ledger.reserve(k.db, wallet, 1000, 'pay_a'))!;
    const b = (await k.ledger.reserve(k.db, wallet, 700, 'pay_b'))!;
    await k.ledger.reserve(k.db, wallet, 300, 'pay_c');
    await k.ledger.capture(k.db, a);
    await k.ledger.release(k.db, b);
    await k.ledger.refund(k.db, a, 'pay_a');
    const audit = await auditLedger(k.db);
    assert.deepEqual(audit.problems, []);
    assert.equal(audit.ok, true);
    assert.equal(audit.entries, 3);
    await k.close();
  });

  it('names a balance that disagrees with its postings, a held amount without its hold, and money made from nothing', async () => {
    const k = await ledgerKit();
    const wallet = await k.open('wallet');
    await k.ledger.credit(k.db, wallet, 5000, 'acc_1');
    await k.db
      .updateTable('ledger_accounts')
      .set({ balance_minor: 6000, held_minor: 200 })
      .where('id', '=', wallet)
      .execute();
    const audit = await auditLedger(k.db);
    assert.equal(audit.ok, false);
    assert.deepEqual(audit.problems.map((p) => p.kind).sort(), ['balance_mismatch', 'held_mismatch', 'total_not_zero']);
    await k.close();
  });
});

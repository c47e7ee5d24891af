import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { auditLedger } from './ledger-audit.ts';
import { merchantBalance } from './ledger.ts';
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

  it('still balances with payments taken and refunded through the rails, each on its clearing account', async () => {
    const k = await ledgerKit();
    await k.ledger.railCapture(k.db, 'alipay', 'CNY', 1200, 'pay_ali');
    await k.ledger.railCapture(k.db, 'wechatpay', 'CNY', 800, 'pay_wx');
    await k.ledger.railRefund(k.db, 'alipay', 'CNY', 200, { refundId: 'rfd_1', paymentId: 'pay_ali' });
    const audit = await auditLedger(k.db);
    assert.deepEqual(audit.problems, []);
    assert.equal(audit.entries, 3);
    const b = await k.balances();
    assert.deepEqual(
      [b['la_alipay_CNY']!.balance, b['la_wechatpay_CNY']!.balance, await merchantBalance(k.db, 'CNY')],
      [-1000, -800, 1800],
    );
    await k.close();
  });

  it('refuses a rail refund the merchant account cannot cover, moving nothing', async () => {
    const k = await ledgerKit();
    await k.ledger.railCapture(k.db, 'alipay', 'CNY', 500, 'pay_ali');
    await assert.rejects(
      k.db
        .transaction()
        .execute((trx) => k.ledger.railRefund(trx, 'alipay', 'CNY', 600, { refundId: 'rfd_1', paymentId: 'pay_ali' })),
      /does not have enough money/,
    );
    const audit = await auditLedger(k.db);
    assert.deepEqual([audit.ok, audit.entries], [true, 1]);
    await k.close();
  });

  it('names a balance unlike its postings, a held amount without its hold, and money from nothing', async () => {
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

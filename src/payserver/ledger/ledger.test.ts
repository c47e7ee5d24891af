import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Kysely } from 'kysely';
import { GroupCommitSqliteDialect } from '../../lib/db/group-commit-sqlite.ts';
import { inTransaction } from '../../lib/db/in-transaction.ts';
import { migrate } from '../../lib/db/migrate.ts';
import { payserverMigrations } from '../migrations/index.ts';
import type { PayserverTables } from '../schema.ts';
import { ledgerOn } from './ledger-test-kit.ts';
import { auditLedger } from './ledger-audit.ts';
import { MERCHANT_SUB_ACCOUNTS, merchantBalance, merchantSubAccount } from './ledger.ts';
import { ledgerKit } from './ledger-test-kit.ts';

/** A ledger with an account of this kind, credited this much from outside. */
async function credited(kind: 'wallet' | 'card', amountMinor = 5000) {
  const k = await ledgerKit();
  const account = await k.open(kind);
  await k.ledger.credit(k.db, account, amountMinor, 'acc_1');
  return { k, account };
}

/** A ledger with an account of this kind credited 5000 and a hold of 2000 on it, for payment pay_1. */
async function heldFrom(kind: 'wallet' | 'card') {
  const { k, account } = await credited(kind);
  const hold = (await k.ledger.reserve(k.db, account, 2000, 'pay_1'))!;
  return { k, account, hold };
}

/** Settles a hold by `first` and asserts it settles once: neither `first` again nor the other way does anything. */
async function settlesOnce(
  k: Awaited<ReturnType<typeof ledgerKit>>,
  hold: Awaited<ReturnType<typeof heldFrom>>['hold'],
  first: 'capture' | 'release',
) {
  const other = first === 'capture' ? 'release' : 'capture';
  assert.equal(await k.ledger[first](k.db, hold), true, `the first ${first}`);
  assert.equal(await k.ledger[first](k.db, hold), false, `a second ${first}`);
  assert.equal(await k.ledger[other](k.db, hold), false, `a ${other} after the ${first}`);
}

describe('ledger', () => {
  it('credits from the external account with postings that sum to zero', async () => {
    const { k, account: wallet } = await credited('wallet');
    const b = await k.balances();
    assert.equal(b[wallet]!.balance, 5000);
    assert.equal(b['la_external_CNY']!.balance, -5000);
    assert.equal(await k.postingsSum(), 0);
    await k.close();
  });

  it('reserves only what is available and changes nothing when it is not', async () => {
    const { k, account: wallet } = await credited('wallet');
    const hold = await k.ledger.reserve(k.db, wallet, 3000, 'pay_1');
    assert.ok(hold, 'hold');
    assert.equal(await k.ledger.reserve(k.db, wallet, 2001, 'pay_2'), null);
    const b = await k.balances();
    assert.deepEqual(b[wallet], { kind: 'wallet', balance: 5000, held: 3000 });
    assert.equal((await k.db.selectFrom('holds').selectAll().execute()).length, 1);
    await k.close();
  });

  it('captures a hold into the merchant account exactly once', async () => {
    const { k, account: wallet, hold } = await heldFrom('wallet');
    await settlesOnce(k, hold, 'capture');
    const b = await k.balances();
    assert.deepEqual(b[wallet], { kind: 'wallet', balance: 3000, held: 0 });
    assert.equal(b[merchantSubAccount('CNY', 'pay_1')]!.balance, 2000);
    assert.equal(await merchantBalance(k.db, 'CNY'), 2000);
    assert.equal(await k.postingsSum(), 0);
    await k.close();
  });

  it('releases a hold exactly once and moves no money', async () => {
    const { k, account: wallet, hold } = await heldFrom('wallet');
    await settlesOnce(k, hold, 'release');
    assert.deepEqual((await k.balances())[wallet], { kind: 'wallet', balance: 5000, held: 0 });
    await k.close();
  });

  it('refunds a captured hold back to its account', async () => {
    const { k, account: card, hold } = await heldFrom('card');
    await k.ledger.capture(k.db, hold);
    await k.ledger.refund(k.db, hold, 'pay_1');
    const b = await k.balances();
    assert.equal(b[card]!.balance, 5000);
    assert.equal(await merchantBalance(k.db, 'CNY'), 0);
    assert.equal(await k.postingsSum(), 0);
    await k.close();
  });

  it('spreads the captures of payments over the merchant sub-accounts; the merchant balance sums them', async () => {
    const { k, account: wallet } = await credited('wallet', 10_000);
    for (let i = 0; i < 40; i++) await k.ledger.capture(k.db, (await k.ledger.reserve(k.db, wallet, 100, `pay_${i}`))!);
    const merchants = Object.values(await k.balances()).filter((a) => a.kind === 'merchant');
    assert.ok(merchants.length > 1, `40 payments landed on ${merchants.length} merchant row(s)`);
    assert.ok(merchants.length <= MERCHANT_SUB_ACCOUNTS, 'no more rows than sub-accounts');
    assert.equal(await merchantBalance(k.db, 'CNY'), 4000);
    assert.deepEqual((await auditLedger(k.db)).problems, []);
    await k.close();
  });

  it('refunds a payment from the sub-account its capture credited, leaving the others alone', async () => {
    const { k, account: wallet } = await credited('wallet');
    const [a, b] = twoPaymentsApart();
    const holdA = (await k.ledger.reserve(k.db, wallet, 1000, a))!;
    await k.ledger.capture(k.db, holdA);
    await k.ledger.capture(k.db, (await k.ledger.reserve(k.db, wallet, 700, b))!);
    await k.ledger.refund(k.db, holdA, 'rfd_a', 400);
    const bal = await k.balances();
    assert.equal(bal[merchantSubAccount('CNY', a)]!.balance, 600);
    assert.equal(bal[merchantSubAccount('CNY', b)]!.balance, 700);
    assert.deepEqual((await auditLedger(k.db)).problems, []);
    await k.close();
  });

  it('refunds a payment captured before the split from sub-account 0, where the single account kept it', async () => {
    const { k, account: wallet } = await credited('wallet');
    const paymentId = twoPaymentsApart().find((p) => merchantSubAccount('CNY', p) !== 'la_merchant_CNY')!;
    const hold = (await k.ledger.reserve(k.db, wallet, 2000, paymentId))!;
    await k.ledger.capture(k.db, hold);
    // As the ledger before the split booked it: the capture on the one merchant account, la_merchant_CNY.
    const own = merchantSubAccount('CNY', paymentId);
    await k.ledger.systemAccount(k.db, 'merchant', 'CNY');
    await k.db
      .updateTable('postings')
      .set({ ledger_account_id: 'la_merchant_CNY' })
      .where('ledger_account_id', '=', own)
      .execute();
    await k.db.updateTable('ledger_accounts').set({ balance_minor: 0 }).where('id', '=', own).execute();
    await k.db
      .updateTable('ledger_accounts')
      .set({ balance_minor: 2000 })
      .where('id', '=', 'la_merchant_CNY')
      .execute();
    await k.ledger.refund(k.db, hold, 'rfd_1');
    const bal = await k.balances();
    assert.deepEqual([bal['la_merchant_CNY']!.balance, bal[own]!.balance, bal[wallet]!.balance], [0, 0, 5000]);
    assert.deepEqual((await auditLedger(k.db)).problems, []);
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

  it('creates a system account if missing until a committed transaction has seen it, then no longer asks', async () => {
    const sent: string[] = [];
    const db = new Kysely<PayserverTables>({
      dialect: new GroupCommitSqliteDialect(':memory:'),
      log: (e) => void sent.push(e.query.sql),
    });
    await migrate(db, payserverMigrations);
    const k = await ledgerOn(db);
    const wallet = await k.open('wallet');
    const asked = () => sent.filter((q) => /^insert into "ledger_accounts"/.test(q) && /on conflict/.test(q)).length;
    const credit = (ref: string) => inTransaction(db, (trx) => k.ledger.credit(trx, wallet, 100, ref));
    await assert.rejects(
      inTransaction(db, async (trx) => {
        await k.ledger.credit(trx, wallet, 100, 'rolled-back');
        throw new Error('rolled back');
      }),
      /rolled back/,
    );
    assert.equal((await k.balances())['la_external_CNY'], undefined, 'the rolled-back transaction created nothing');
    await credit('first');
    await credit('second');
    assert.equal(asked(), 2, 'asked by the rolled-back credit and the first committed one, not by the second');
    assert.deepEqual((await k.balances())['la_external_CNY'], { kind: 'external', balance: -200, held: 0 });
    await db.destroy();
  });
});

/** Two payment ids whose money goes to different merchant sub-accounts. */
function twoPaymentsApart(): [string, string] {
  const ids = Array.from({ length: 64 }, (_, i) => `pay_${i}`);
  const b = ids.find((id) => merchantSubAccount('CNY', id) !== merchantSubAccount('CNY', ids[0]!))!;
  return [ids[0]!, b];
}

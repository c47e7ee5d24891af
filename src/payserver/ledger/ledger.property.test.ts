import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ledgerKit } from './ledger-test-kit.ts';

type Op =
  | { kind: 'credit'; target: 0 | 1; amount: number }
  | { kind: 'hold'; target: 0 | 1; amount: number }
  | { kind: 'capture' | 'release' | 'expire'; pick: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('credit' as const),
    target: fc.constantFrom(0 as const, 1 as const),
    amount: fc.integer({ min: 1, max: 10_000 }),
  }),
  fc.record({
    kind: fc.constant('hold' as const),
    target: fc.constantFrom(0 as const, 1 as const),
    amount: fc.integer({ min: 1, max: 12_000 }),
  }),
  fc.record({ kind: fc.constantFrom('capture' as const, 'release' as const, 'expire' as const), pick: fc.nat() }),
);

describe('ledger properties', () => {
  it('keeps money conserved, no balance negative, every hold resolved at most once, in any sequence', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
        const k = await ledgerKit();
        try {
          const accounts = [await k.open('wallet'), await k.open('card')];
          const holds: string[] = [];
          const resolved = new Map<string, string>();
          let credited = 0;
          for (const o of ops) {
            if (o.kind === 'credit') {
              await k.ledger.credit(k.db, accounts[o.target]!, o.amount, 'x');
              credited += o.amount;
            } else if (o.kind === 'hold') {
              const before = await k.balances();
              const a = before[accounts[o.target]!]!;
              const hold = await k.ledger.reserve(k.db, accounts[o.target]!, o.amount, 'pay');
              assert.equal(
                hold !== null,
                a.balance - a.held >= o.amount,
                'a hold is placed exactly when the available balance covers it',
              );
              if (hold) holds.push(hold);
            } else if (holds.length > 0) {
              const hold = holds[o.pick % holds.length]!;
              const done =
                o.kind === 'capture' ? await k.ledger.capture(k.db, hold) : await k.ledger.release(k.db, hold);
              assert.equal(done, !resolved.has(hold), 'a hold resolves once and only once');
              if (done) resolved.set(hold, o.kind);
            }
          }
          const b = await k.balances();
          const users = accounts.map((id) => b[id]!);
          for (const u of users) {
            assert.ok(u.balance >= 0, 'no balance below zero');
            assert.ok(u.held >= 0 && u.held <= u.balance, 'holds never exceed the balance');
          }
          const merchant = Object.values(b)
            .filter((a) => a.kind === 'merchant')
            .reduce((s, a) => s + a.balance, 0);
          const external = b['la_external_CNY']?.balance ?? 0;
          assert.equal(users.reduce((s, u) => s + u.balance, 0) + merchant, credited, 'money is conserved');
          assert.equal(external + credited, 0, 'only credits bring money in');
          assert.equal(await k.postingsSum(), 0, 'postings sum to zero');
          const open = (await k.db.selectFrom('holds').selectAll().where('status', '=', 'held').execute()).reduce(
            (s, h) => s + Number(h.amount_minor),
            0,
          );
          assert.equal(
            users.reduce((s, u) => s + u.held, 0),
            open,
            'held totals match open holds',
          );
        } finally {
          await k.close();
        }
      }),
      { numRuns: 60 },
    );
  });
});

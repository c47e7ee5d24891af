import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cryptoRandom } from './ids.ts';

describe('ids from the clock and the CSPRNG', () => {
  it('gives URL-safe ids of a millisecond stamp and 72 random bits, none twice, across many pool refills', () => {
    const ids = Array.from({ length: 20_000 }, () => cryptoRandom.id('ord'));
    for (const id of ids.slice(0, 500)) assert.match(id, /^ord_[0-9A-Za-z]{8}[A-Za-z0-9_-]{12}$/);
    assert.equal(new Set(ids).size, ids.length);
  });
  it('stamps each id with the millisecond it was made in, so that ids made later sort after it as text', async () => {
    const before = Date.now();
    const first = cryptoRandom.id('obx');
    await new Promise((r) => setTimeout(r, 5));
    const second = cryptoRandom.id('obx');
    const after = Date.now();
    const stampOf = (id: string) =>
      [...id.slice(4, 12)].reduce(
        (n, c) => n * 62 + '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'.indexOf(c),
        0,
      );
    assert.ok(
      stampOf(first) >= before && stampOf(second) <= after && stampOf(second) > stampOf(first),
      `${first} then ${second}, made between ${before} and ${after}`,
    );
    assert.ok(first.slice(0, 12) < second.slice(0, 12), 'the later stamp sorts after the earlier, byte by byte');
  });
  it('draws the random part uniformly (each base64url character about equally often)', () => {
    const counts = new Map<string, number>();
    // The 12 characters after the stamp carry 6 random bits each (72 = 12 × 6).
    for (let i = 0; i < 20_000; i++)
      for (const c of cryptoRandom.id('x').slice(10)) counts.set(c, (counts.get(c) ?? 0) + 1);
    assert.equal(counts.size, 64);
    const expected = (20_000 * 12) / 64;
    for (const [c, n] of counts)
      assert.ok(Math.abs(n - expected) < expected * 0.1, `${c} came ${n} times, expected about ${expected}`);
  });
  it('draws tokens of 256 bits on their own', () => {
    const tokens = Array.from({ length: 1000 }, () => cryptoRandom.token('dev_'));
    for (const t of tokens) assert.match(t, /^dev_[A-Za-z0-9_-]{43}$/);
    assert.equal(new Set(tokens).size, tokens.length);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cryptoRandom } from './ids.ts';

describe('ids from the CSPRNG', () => {
  it('gives ids of 96 random bits, URL-safe, none twice, across many refills of the pool', () => {
    const ids = Array.from({ length: 20_000 }, () => cryptoRandom.id('ord'));
    for (const id of ids.slice(0, 500)) assert.match(id, /^ord_[A-Za-z0-9_-]{16}$/);
    assert.equal(new Set(ids).size, ids.length);
  });
  it('draws bytes that look uniform (each base64url character of the ids about equally often)', () => {
    const counts = new Map<string, number>();
    // The first 15 of the 16 characters carry 6 random bits each (the last one too, 96 = 16 × 6).
    for (let i = 0; i < 20_000; i++) for (const c of cryptoRandom.id('x').slice(2)) counts.set(c, (counts.get(c) ?? 0) + 1);
    assert.equal(counts.size, 64);
    const expected = (20_000 * 16) / 64;
    for (const [c, n] of counts) assert.ok(Math.abs(n - expected) < expected * 0.1, `${c} came ${n} times, expected about ${expected}`);
  });
  it('draws tokens of 256 bits on their own', () => {
    const tokens = Array.from({ length: 1000 }, () => cryptoRandom.token('dev_'));
    for (const t of tokens) assert.match(t, /^dev_[A-Za-z0-9_-]{43}$/);
    assert.equal(new Set(tokens).size, tokens.length);
  });
});

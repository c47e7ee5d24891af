import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatMinor, formatPrice, minorDigits } from './money-format.ts';

describe('money formatting', () => {
  it("writes minor units with the currency's own decimals", () => {
    assert.equal(formatMinor(20000, 'CNY'), '200.00');
    assert.equal(formatMinor(5, 'CNY'), '0.05');
    assert.equal(formatMinor(-990, 'CNY'), '-9.90');
    assert.equal(formatMinor(1500, 'JPY'), '1500');
    assert.equal(minorDigits('JPY'), 0);
    assert.equal(formatMinor(100_000_000, 'CNY'), '1000000.00', 'no grouping');
  });

  it('puts the yuan sign before a CNY price and the code before others', () => {
    assert.equal(formatPrice(2500, 'CNY'), '¥25.00');
    assert.equal(formatPrice(2500, 'HKD'), 'HKD 25.00');
  });
});

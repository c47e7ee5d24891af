import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { atMostAtOnce } from './at-most-at-once.ts';

describe('at most n at once', () => {
  it('never has more than the limit in flight and gives the results in the order of the items', async () => {
    let inFlight = 0;
    let most = 0;
    const results = await atMostAtOnce([5, 1, 4, 2, 3, 0, 6], 3, async (ms) => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, ms));
      inFlight--;
      return ms * 10;
    });
    assert.equal(most, 3);
    assert.deepEqual(results, [50, 10, 40, 20, 30, 0, 60]);
  });

  it('runs every item even when one fails, then rejects with the first failure', async () => {
    const ran: number[] = [];
    await assert.rejects(
      atMostAtOnce([1, 2, 3, 4], 2, async (n) => {
        ran.push(n);
        if (n === 2) throw new Error('two failed');
      }),
      /two failed/,
    );
    assert.deepEqual(ran.sort(), [1, 2, 3, 4]);
  });
});

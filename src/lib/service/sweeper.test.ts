import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../log.ts';
import { Sweeper } from './sweeper.ts';

describe('the sweeper', () => {
  it('runs a pass that starts after the call when asked to sweep during a pass (renewal-day CI flake)', async () => {
    let now = 1;
    const seen: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let first = true;
    const sweeper = new Sweeper(
      async () => {
        seen.push(now);
        if (first) {
          first = false;
          await gate;
        }
      },
      60_000,
      createLogger('silent'),
    );
    const underWay = sweeper.runOnce();
    now = 2; // what the caller moved (the test clock) before asking for a pass
    const asked = sweeper.runOnce();
    const askedToo = sweeper.runOnce();
    release();
    await Promise.all([underWay, asked, askedToo]);
    assert.deepEqual(seen, [1, 2], 'one more pass, after the one under way, shared by both who asked meanwhile');
  });

  it('lets a timer tick skip while a pass is under way instead of queueing one', async () => {
    let passes = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const sweeper = new Sweeper(
      async () => {
        passes++;
        await gate;
      },
      60_000,
      createLogger('silent'),
    );
    const underWay = sweeper.runOnce();
    await sweeper.tick();
    release();
    await underWay;
    assert.equal(passes, 1);
  });
});

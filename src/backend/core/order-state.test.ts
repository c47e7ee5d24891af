import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canMove, FINAL_STATUSES, isFinal, PREDECESSORS, type OrderStatus } from './order-state.ts';

const ALL = Object.keys(PREDECESSORS) as OrderStatus[];
const RANK: Record<OrderStatus, number> = {
  created: 0,
  awaiting_payment: 1,
  paid: 2,
  fulfilled: 3,
  failed: 3,
  expired: 3,
  cancelled: 3,
  refunded: 4,
};

describe('order state machine', () => {
  it('walks the happy path created → awaiting_payment → paid → fulfilled', () => {
    assert.ok(canMove('created', 'awaiting_payment'), "canMove('created', 'awaiting_payment')");
    assert.ok(canMove('awaiting_payment', 'paid'), "canMove('awaiting_payment', 'paid')");
    assert.ok(canMove('paid', 'fulfilled'), "canMove('paid', 'fulfilled')");
  });
  it('never leaves a final status, except fulfilled for refunded', () => {
    for (const from of FINAL_STATUSES)
      for (const to of ALL)
        assert.equal(canMove(from, to), from === 'fulfilled' && to === 'refunded', `${from} → ${to}`);
  });
  it('only moves forward', () => {
    for (const from of ALL)
      for (const to of ALL) if (canMove(from, to)) assert.ok(RANK[to] >= RANK[from], `${from} → ${to}`);
  });
  it('lets a paid order only be fulfilled or refunded (no cancel, no expiry, no failure after payment)', () => {
    for (const to of ALL) assert.equal(canMove('paid', to), to === 'fulfilled' || to === 'refunded', to);
  });
  it('names fulfilled, failed, expired, cancelled and refunded as final', () => {
    assert.deepEqual(ALL.filter(isFinal).sort(), ['cancelled', 'expired', 'failed', 'fulfilled', 'refunded']);
  });
});

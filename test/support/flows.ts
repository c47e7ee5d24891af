import assert from 'node:assert/strict';
import type { Caller } from './walk.ts';
import type { TestSystem } from './system.ts';

// The service tests' names for the walk's steps (test/support/walk.ts), on the in-process system.

/** The 6-digit code in the newest SMS a phone got (after `after` of them), as a person would read it. */
export const latestCode = (sys: TestSystem, digits: string, after = 0): Promise<string> =>
  sys.walk.latestCode(digits, after);

export const smsCount = async (sys: TestSystem, digits: string): Promise<number> =>
  (await sys.walk.inbox(digits)).length;

/** Provisions a TV of its own (a TV has one open order at most) and returns a caller as it. */
export const newTv = (sys: TestSystem, name: string) => sys.walk.newTv(name);

export const createOrder = (sys: TestSystem, productId = 'vip-year', tv: Caller = sys.tv): Promise<string> =>
  sys.walk.order(productId, tv);

export const orderStatus = (sys: TestSystem, orderId: string, status: string, tv: Caller = sys.tv) =>
  sys.walk.until(orderId, status, tv);

export const accountByPhone = (sys: TestSystem, phone: string) => sys.walk.account(phone);

/**
 * Pays an order with a bound phone as its viewer does: the number typed on the TV (`typed`, by default in full
 * with +), then the code SMS replied from the phone. Returns the order once fulfilled.
 */
export async function payByReply(sys: TestSystem, orderId: string, digits: string, tv = sys.tv, typed = `+${digits}`) {
  const seen = await smsCount(sys, digits);
  assert.equal((await tv('POST', `/v1/orders/${orderId}/payer`, { phone: typed })).statusCode, 202);
  await sys.carrier.carrier.reply(digits, await latestCode(sys, digits, seen));
  return orderStatus(sys, orderId, 'fulfilled', tv);
}

/** Asserts that each of these renewal orders has ended, paid (fulfilled) or failed. */
export const assertRenewalsEnded = (orders: ReadonlyArray<{ status: string }>) =>
  assert.ok(
    orders.every((o) => o.status === 'fulfilled' || o.status === 'failed'),
    'every renewal has ended',
  );

import assert from 'node:assert/strict';
import type { TestSystem } from './system.ts';
import { codeIn } from './codes.ts';
import { eventually } from './eventually.ts';

/** The 6-digit code in the newest SMS a phone got, as a person would read it. */
export async function latestCode(sys: TestSystem, digits: string, after = 0): Promise<string> {
  return eventually(async () => {
    const inbox = await sys.carrier.carrier.inbox(digits);
    assert.ok(inbox.length > after, `no new SMS for ${digits}`);
    return codeIn(inbox[inbox.length - 1]!.text);
  });
}

export async function smsCount(sys: TestSystem, digits: string): Promise<number> {
  return (await sys.carrier.carrier.inbox(digits)).length;
}

/** Provisions a TV of its own (a TV has one open order at most) and returns a caller as it. */
export async function newTv(sys: TestSystem, name: string) {
  const res = await sys.backendAdmin('POST', '/admin/v1/devices', { name, accountId: `acct-${name}` });
  assert.equal(res.statusCode, 201, res.body);
  return sys.as(res.json().token);
}

export async function createOrder(sys: TestSystem, productId = 'vip-year', tv = sys.tv): Promise<string> {
  const res = await tv('POST', '/v1/orders', { productId });
  assert.equal(res.statusCode, 201, res.body);
  return res.json().orderId;
}

export async function orderStatus(sys: TestSystem, orderId: string, status: string, tv = sys.tv) {
  return eventually(async () => {
    const order = (await tv('GET', `/v1/orders/${orderId}`)).json();
    assert.equal(order.status, status, `order is ${order.status} (${order.failureCode ?? ''})`);
    return order;
  });
}

export async function accountByPhone(sys: TestSystem, phone: string) {
  const row = await sys.payserver.services.accounts.findByPhone(phone as never);
  assert.ok(row, `no account for ${phone}`);
  return sys.payserver.services.accounts.get(row.id);
}

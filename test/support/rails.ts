import assert from 'node:assert/strict';
import { cryptoRandom } from '../../src/lib/ids.ts';
import { signRequest } from '../../src/lib/signing.ts';
import { createOrder, latestCode, newTv, smsCount } from './flows.ts';
import type { TestSystem } from './system.ts';

/** A phone the demo data binds (it gets a code SMS, so its order's checkout opens at the payment server). */
export const BOUND_PHONE = '8613800138000';

/** A signed request of the back-end to the payment server's internal API. */
export async function internal(sys: TestSystem, method: 'GET' | 'POST', path: string, body?: unknown) {
  const text = body === undefined ? '' : JSON.stringify(body);
  const headers = signRequest(sys.secrets.serviceSecret, method, path, text, sys.clock.now(), cryptoRandom.id('n'));
  return sys.payserver.app.inject({
    method,
    url: path,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { payload: text }),
  });
}

/** An order of a TV of its own whose payer (a bound phone) has been sent a code: its checkout is open here. */
export async function openOrder(sys: TestSystem) {
  const tv = await newTv(sys, `tv-${Math.random().toString(36).slice(2, 8)}`);
  const orderId = await createOrder(sys, 'vip-month', tv);
  const seen = await smsCount(sys, BOUND_PHONE);
  assert.equal((await tv('POST', `/v1/orders/${orderId}/payer`, { phone: `+${BOUND_PHONE}` })).statusCode, 202);
  await latestCode(sys, BOUND_PHONE, seen);
  return { tv, orderId };
}

/** The back-end's scan of an order for a rail, with what the order's checkout row says of it. */
export async function scan(sys: TestSystem, orderId: string, rail: 'alipay' | 'wechatpay') {
  const c = await sys.payserver.db
    .selectFrom('checkouts')
    .selectAll()
    .where('order_id', '=', orderId)
    .executeTakeFirstOrThrow();
  return internal(sys, 'POST', '/internal/v1/rails/scan', {
    orderId,
    rail,
    amountMinor: Number(c.amount_minor),
    currency: c.currency,
    productTitle: c.product_title,
    payee: c.payee,
    deviceId: c.device_id,
    expiresAt: c.expires_at,
  });
}

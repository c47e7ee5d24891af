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

const formOf = (fields: Record<string, string>) => ({
  payload: new URLSearchParams(fields).toString(),
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
});

/**
 * The payer on a development rail's cashier, reached from the checkout page's redirect (`location`): pays, or
 * pays and signs the agreement with a development balance (fen) for later charges. Returns where the cashier
 * sends them back (the checkout page's return URL).
 */
export async function atDevCashier(
  sys: TestSystem,
  rail: 'alipay' | 'wechatpay',
  location: string,
  choice: { action: 'pay' } | { action: 'pay_sign'; balanceFen: number },
): Promise<string> {
  const url = new URL(location);
  const sign = choice.action === 'pay_sign' ? choice.balanceFen : undefined;
  let paid;
  if (rail === 'alipay') {
    const gateway = await sys.carrier.app.inject({ url: url.pathname + url.search });
    assert.equal(gateway.statusCode, 302, gateway.body);
    const fields = { action: choice.action, ...(sign === undefined ? {} : { balance: (sign / 100).toFixed(2) }) };
    paid = await sys.carrier.app.inject({ method: 'POST', url: gateway.headers.location!, ...formOf(fields) });
  } else {
    const fields = {
      prepay_id: url.searchParams.get('prepay_id')!,
      redirect_url: url.searchParams.get('redirect_url')!,
      action: choice.action,
      ...(sign === undefined ? {} : { balance_fen: String(sign) }),
    };
    paid = await sys.carrier.app.inject({ method: 'POST', url: '/dev/wechatpay/cashier', ...formOf(fields) });
  }
  assert.equal(paid.statusCode, 303, paid.body);
  return paid.headers.location!;
}

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { OrderEvents } from '../core/order-events.ts';
import { newOrderRow, type OrderRow } from './order-store.ts';
import { tvOrderRoutes } from './orders-routes.ts';
import type { OrdersService } from './orders-service.ts';
import { StreamRegistry } from './stream-registry.ts';

const at = '2026-01-01T00:00:00.000Z';
const base = newOrderRow({
  id: 'ord_1',
  device_id: 'dev_1',
  account_id: 'sub_1',
  product_id: 'vip',
  title: 'VIP',
  amount_minor: 100,
  currency: 'CNY',
  service: 'vip',
  duration_days: 30,
  created_at: at,
  expires_at: '2100-01-01T00:00:00.000Z',
  renews: 0,
});
const version = (v: number, over: Partial<OrderRow>): OrderRow => ({ ...base, ...over, version: v });

/** An event stream over OrderEvents and an orders service that counts its store reads. */
async function streamOf(first: OrderRow, stored: () => OrderRow) {
  const events = new OrderEvents();
  let reads = 0;
  const orders = {
    readOwn: async () => first,
    get: async () => {
      reads++;
      return stored();
    },
    saw: () => {},
  } as unknown as OrdersService;
  const app = Fastify();
  app.addHook('onRequest', async (request) => {
    request.device = { deviceId: 'dev_1', name: 'TV', accountId: 'sub_1' };
  });
  tvOrderRoutes(app, orders, events, new StreamRegistry({ perDevice: 5, perOrder: 5 }), () => 'https://pay.example/x');
  await app.ready();
  const answer = app.inject({ method: 'GET', url: '/v1/orders/ord_1/events' });
  const statuses = async () => {
    const res = await answer;
    await app.close();
    return res.body
      .split('\n\n')
      .filter((e) => e.startsWith('event: order'))
      .map((e) => JSON.parse(/data: (.*)/.exec(e)![1]!).status as string);
  };
  return { events, statuses, reads: () => reads };
}

const tick = () => new Promise((r) => setTimeout(r, 20));

describe("an order's event stream", () => {
  it('sends the row a change announces without reading it, and never an older version after a newer', async () => {
    const s = await streamOf(version(1, { status: 'awaiting_payment' }), () => base);
    await tick();
    s.events.publish('ord_1', version(3, { status: 'paid' }));
    s.events.publish('ord_1', version(2, { status: 'cancelled' })); // announced late: older than what was sent
    s.events.publish('ord_1', version(4, { status: 'fulfilled' }));
    assert.deepEqual(await s.statuses(), ['awaiting_payment', 'paid', 'fulfilled']);
    assert.equal(s.reads(), 0, 'no store read');
  });

  it('reads the order for a change announced from elsewhere only when it is newer than what it sent', async () => {
    const s = await streamOf(version(2, { status: 'awaiting_payment' }), () => version(5, { status: 'fulfilled' }));
    await tick();
    s.events.wake('ord_1', { version: 2 }); // its own change heard again
    await tick();
    assert.equal(s.reads(), 0, 'a version it has sent costs no read');
    s.events.wake('ord_1', { version: 5 });
    assert.deepEqual(await s.statuses(), ['awaiting_payment', 'fulfilled']);
    assert.equal(s.reads(), 1);
  });
});

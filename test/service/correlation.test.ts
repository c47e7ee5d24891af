import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/eventually.ts';
import { testSystem, type TestSystem } from '../support/system.ts';
import { webhookReceiver } from '../support/webhook-receiver.ts';

const PHONE = '8613800138000';

describe('one correlation id follows a payment', () => {
  const logs: string[] = [];
  let sys: TestSystem;
  before(async () => {
    sys = await testSystem({ TVPAY_WEBHOOK_ALLOW_PRIVATE: '1' }, { logs }); // the receiver is on 127.0.0.1
  });
  after(() => sys.close());

  it("carries the TV's correlation id through both services, their messages, the webhooks, the log lines and the timeline, even when the payment comes by SMS reply", async (t) => {
    const rx = await webhookReceiver();
    t.after(() => rx.close());
    const hook = (
      await sys.backendAdmin('POST', '/admin/v1/webhooks', { url: rx.url, events: ['order.paid', 'order.fulfilled'] })
    ).json();
    rx.setSecret(hook.secret);

    const cid = 'tv_follow_me_0123456789';
    const tv = (method: string, url: string, body?: unknown) => sys.tv(method, url, body, { 'x-correlation-id': cid });
    const created = await tv('POST', '/v1/orders', { productId: 'kids-app' });
    assert.equal(created.headers['x-correlation-id'], cid, 'the answer says the id it runs under');
    const orderId = created.json().orderId as string;
    const seen = (await sys.walk.inbox(PHONE)).length;
    assert.equal((await tv('POST', `/v1/orders/${orderId}/payer`, { phone: '13800138000' })).statusCode, 202);
    // The reply is an SMS, a request of its own: the payment server matches it to the order's checkout and goes on under the TV's id.
    await sys.walk.reply(PHONE, await sys.walk.latestCode(PHONE, seen));
    await sys.walk.until(orderId, 'fulfilled');

    await eventually(() => assert.ok(rx.received.some((r) => r.type === 'order.fulfilled')));
    for (const r of rx.received)
      assert.equal(r.headers['tvpay-correlation-id'], cid, `the ${r.type} webhook carries the id`);

    const timeline = (await sys.backendAdmin('GET', `/admin/v1/orders/${orderId}/timeline`)).json() as Array<{
      kind: string;
      summary: string;
      correlationId?: string;
    }>;
    for (const status of ['created', 'awaiting_payment', 'paid', 'fulfilled']) {
      const entry = timeline.find((e) => e.kind === 'status' && e.summary === status);
      assert.equal(entry?.correlationId, cid, `the timeline's ${status} carries the id`);
    }

    const lines = logs.map((l) => JSON.parse(l) as { correlationId?: string; req?: { url?: string } });
    const under = lines.filter((l) => l.correlationId === cid);
    for (const url of ['/v1/orders', '/internal/v1/payments', '/internal/v1/payment-events']) {
      assert.ok(
        under.some((l) => l.req?.url === url),
        `a log line of ${url} (the TV's request, the back-end's start at the payment server, the payment server's outcome at the back-end) has the id`,
      );
    }
    assert.ok(
      lines.every((l) => 'correlationId' in l || !l.req),
      'every request log line has a correlation id',
    );
  });

  it('ignores a correlation id that is not one (it never reaches a log line as sent)', async () => {
    const res = await sys.tv('GET', '/v1/products', undefined, { 'x-correlation-id': 'bad id\nwith a line break' });
    assert.equal(res.statusCode, 200);
    assert.notEqual(res.headers['x-correlation-id'], 'bad id\nwith a line break');
    assert.ok(!logs.some((l) => l.includes('with a line break')));
  });
});

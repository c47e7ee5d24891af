import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { backendAlone, BOUND, type BackendAlone } from '../support/backend-alone.ts';
import { eventually } from '../support/eventually.ts';
import { webhookReceiver } from '../support/webhook-receiver.ts';

// Webhooks are the back-end's alone: these run on the back-end kit, with a fake payment server.

/** The back-end alone, with webhooks allowed to the receivers on 127.0.0.1. */
const backend = (t: TestContext) => backendAlone(t, { TVPAY_WEBHOOK_ALLOW_PRIVATE: '1' });

async function register(k: BackendAlone, url: string, events: string[] = ['*'], key?: string) {
  const res = await k.backendAdmin(
    'POST',
    '/admin/v1/webhooks',
    { url, events },
    key ? { 'idempotency-key': key } : {},
  );
  assert.equal(res.statusCode, 201, res.body);
  return res.json();
}

/** The back-end alone and a webhook receiver, both closed after the test (the back-end first). */
async function backendAndReceiver(t: TestContext) {
  const k = await backend(t);
  const rx = await webhookReceiver();
  t.after(() => rx.close());
  return { k, rx };
}

const buy = async (k: BackendAlone, productId = 'kids-app') => (await k.paidOrder(productId)).orderId;

const deliveries = async (k: BackendAlone, webhookId: string) =>
  (await k.backendAdmin('GET', `/admin/v1/webhooks/${webhookId}/deliveries`)).json();

/** The webhook's first delivery, once it has been delivered. */
const delivered = (k: BackendAlone, webhookId: string) =>
  eventually(async () => {
    const [d] = await deliveries(k, webhookId);
    assert.equal(d.status, 'delivered');
    return d;
  });

describe('webhooks', () => {
  it('shows the secret once, keeps it sealed, and signs every event with it', async (t) => {
    const { k, rx } = await backendAndReceiver(t);
    const hook = await register(k, rx.url, ['order.paid', 'order.fulfilled'], 'hook-key-1');
    assert.match(hook.secret, /^whsec_/);
    rx.setSecret(hook.secret);
    const replay = await k.backendAdmin(
      'POST',
      '/admin/v1/webhooks',
      { url: rx.url, events: ['order.paid', 'order.fulfilled'] },
      { 'idempotency-key': 'hook-key-1' },
    );
    assert.equal(replay.json().webhookId, hook.webhookId);
    assert.ok(!replay.body.includes(hook.secret), 'a replay does not show the secret again');
    const listed = (await k.backendAdmin('GET', '/admin/v1/webhooks')).json();
    assert.ok(
      listed.some((w: { webhookId: string }) => w.webhookId === hook.webhookId),
      'listed.some((w: { webhookId: string }) => w.webhookId === hook.webhookId)',
    );
    assert.ok(!JSON.stringify(listed).includes(hook.secret), '!JSON.stringify(listed).includes(hook.secret)');
    const row = await k.backend.db
      .selectFrom('webhooks')
      .selectAll()
      .where('id', '=', hook.webhookId)
      .executeTakeFirstOrThrow();
    assert.ok(!JSON.stringify(row).includes(hook.secret), 'the database holds the secret sealed');

    const orderId = await buy(k);
    const [paid, fulfilled] = await eventually(() => {
      const p = rx.ofType('order.paid').find((r) => r.json.data.orderId === orderId);
      const f = rx.ofType('order.fulfilled').find((r) => r.json.data.orderId === orderId);
      assert.ok(p && f, 'both events arrive');
      return [p, f];
    });
    for (const r of [paid!, fulfilled!]) {
      assert.equal(r.signed, true, 'the signature verifies');
      assert.equal(r.headers['tvpay-event-id'], r.json.id);
      assert.equal(r.headers['tvpay-event-type'], r.json.type);
      assert.match(r.json.createdAt, /^\d{4}-\d{2}-\d{2}T/);
    }
    assert.equal(paid!.json.data.status, 'paid');
    assert.equal(paid!.json.data.payerPhone, BOUND);
    assert.equal(paid!.json.data.payUrl, null, 'the pay link, a bearer secret, is not sent');
    assert.equal(fulfilled!.json.data.status, 'fulfilled');
    assert.ok(
      rx.received.every((r) => r.type === 'order.paid' || r.type === 'order.fulfilled'),
      'only the subscribed types',
    );
    await k.backendAdmin('DELETE', `/admin/v1/webhooks/${hook.webhookId}`);
  });

  it('retries a receiver that fails, records each attempt, and resends with the same event id', async (t) => {
    const { k, rx } = await backendAndReceiver(t);
    const hook = await register(k, rx.url, ['order.paid']);
    rx.setSecret(hook.secret);
    rx.answer(500);
    const orderId = await buy(k);
    await eventually(() =>
      assert.ok(
        rx.ofType('order.paid').some((r) => r.json.data.orderId === orderId),
        'the receiver got the order.paid',
      ),
    );
    const first = await eventually(async () => {
      const [d] = await deliveries(k, hook.webhookId);
      assert.equal(d.attempts, 1);
      return d;
    });
    assert.equal(first.status, 'pending');
    assert.equal(first.lastStatusCode, 500);
    assert.ok(
      Date.parse(first.nextAttemptAt) - Date.parse(first.lastAttemptAt) <= 15_000,
      'the first retry is within 15 s',
    );
    rx.answer(204);
    await k.advance(15_000);
    const done = await delivered(k, hook.webhookId);
    assert.equal(done.attempts, 2);
    assert.equal(done.lastStatusCode, 204);
    assert.equal(done.nextAttemptAt, null);
    const resent = await k.backendAdmin(
      'POST',
      `/admin/v1/webhooks/${hook.webhookId}/deliveries/${done.deliveryId}/resend`,
    );
    assert.equal(resent.statusCode, 202, resent.body);
    await eventually(() =>
      assert.equal(rx.ofType('order.paid').filter((r) => r.json.data.orderId === orderId).length, 3),
    );
    const ids = new Set(
      rx
        .ofType('order.paid')
        .filter((r) => r.json.data.orderId === orderId)
        .map((r) => r.id),
    );
    assert.equal(ids.size, 1, 'every attempt carries the same event id');
    const timeline = (await k.backendAdmin('GET', `/admin/v1/orders/${orderId}/timeline`)).json();
    assert.ok(
      timeline.some((e: { kind: string }) => e.kind === 'webhook'),
      "timeline.some((e: { kind: string }) => e.kind === 'webhook')",
    );
    await k.backendAdmin('DELETE', `/admin/v1/webhooks/${hook.webhookId}`);
  });

  it('reads at most 64 KiB of a receiver answering 600 MiB: one delivered attempt, memory bounded', async (t) => {
    const { k, rx } = await backendAndReceiver(t);
    rx.answer('flood');
    const hook = await register(k, rx.url, ['order.paid']);
    rx.setSecret(hook.secret);
    const rssBefore = process.memoryUsage().rss;
    await buy(k);
    const done = await delivered(k, hook.webhookId);
    assert.equal(done.attempts, 1);
    assert.equal(done.lastStatusCode, 200);
    assert.ok(rx.flooded() < 32 * 1024 * 1024, `the receiver could send only ${rx.flooded()} bytes`);
    const grown = process.memoryUsage().rss - rssBefore;
    assert.ok(grown < 200 * 1024 * 1024, `RSS grew by ${grown} bytes`);
    await k.backendAdmin('DELETE', `/admin/v1/webhooks/${hook.webhookId}`);
  });

  it('keeps delivering to other receivers, and paying, while one receiver never answers', async (t) => {
    const slow = await webhookReceiver();
    const fast = await webhookReceiver();
    // Closed before the back-end (after-hooks run in order), so its close does not wait out the hanging delivery.
    t.after(async () => {
      await slow.close();
      await fast.close();
    });
    const k = await backend(t);
    slow.answer('hang');
    const s = await register(k, slow.url, ['*']);
    const f = await register(k, fast.url, ['order.cancelled']);
    const tv = await k.newTv('busy-tv');
    const made: string[] = [];
    for (let i = 0; i < 20; i++) {
      const id = await k.order('kids-app', tv);
      await tv('POST', `/v1/orders/${id}/cancel`);
      made.push(id);
    }
    await eventually(() =>
      assert.equal(fast.ofType('order.cancelled').filter((r) => made.includes(r.json.data.orderId)).length, 20),
    );
    assert.ok(
      slow.received.length <= 16,
      `at most sixteen deliveries in flight to the slow URL (${slow.received.length})`,
    );
    await buy(k);
    await k.backendAdmin('DELETE', `/admin/v1/webhooks/${s.webhookId}`);
    await k.backendAdmin('DELETE', `/admin/v1/webhooks/${f.webhookId}`);
  });

  it('refuses URLs that are not absolute http(s), unknown event types and empty lists, storing nothing', async (t) => {
    const k = await backend(t);
    const before = (await k.backendAdmin('GET', '/admin/v1/webhooks')).json().length;
    for (const [body, status, code] of [
      [{ url: 'ftp://example.com/x', events: ['*'] }, 422, 'WEBHOOK_URL_INVALID'],
      [{ url: '/relative', events: ['*'] }, 422, 'WEBHOOK_URL_INVALID'],
      [{ url: 'https://user:pw@example.com/', events: ['*'] }, 422, 'WEBHOOK_URL_INVALID'],
      [{ url: 'https://example.com/', events: ['order.nope'] }, 422, 'EVENT_TYPE_UNKNOWN'],
      [{ url: 'https://example.com/', events: [] }, 400, 'VALIDATION_FAILED'],
      [{ url: 'https://example.com/' }, 400, 'VALIDATION_FAILED'],
    ] as const) {
      const res = await k.backendAdmin('POST', '/admin/v1/webhooks', body);
      assert.equal(res.statusCode, status, `${JSON.stringify(body)} → ${res.body}`);
      assert.equal(res.json().code, code);
    }
    assert.equal((await k.backendAdmin('GET', '/admin/v1/webhooks')).json().length, before);
    assert.equal((await k.backendAdmin('GET', '/admin/v1/webhooks/whk_nope/deliveries')).statusCode, 404);
    assert.equal((await k.backendAdmin('DELETE', '/admin/v1/webhooks/whk_nope')).statusCode, 404);
  });
});

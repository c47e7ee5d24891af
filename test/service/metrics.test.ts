import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Kysely } from 'kysely';
import type { CommonTables } from '../../src/lib/db/common-tables.ts';
import { createOrder, payByReply } from '../support/flows.ts';
import { testSystem, type TestSystem } from '../support/system.ts';

const METRICS_TOKEN = 'prometheus-reads-this-token';
let sys: TestSystem;
before(async () => {
  sys = await testSystem({ TVPAY_METRICS_TOKEN: METRICS_TOKEN });
  const orderId = await createOrder(sys, 'kids-app');
  await payByReply(sys, orderId, '8613800138000', sys.tv, '13800138000');
});
after(() => sys.close());

/** The value of one sample line, e.g. `tvpay_orders{…status="fulfilled"…}`. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.split(' ').at(-1));
  }
  return undefined;
}

describe('metrics', () => {
  it('serves Prometheus text with the admin token or TVPAY_METRICS_TOKEN, and nothing without', async () => {
    assert.equal((await sys.as(undefined)('GET', '/metrics')).statusCode, 401);
    assert.equal((await sys.as('wrong-token-wrong-token')('GET', '/metrics')).statusCode, 401);
    const res = await sys.as(METRICS_TOKEN)('GET', '/metrics');
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain/);
    assert.equal((await sys.payAdmin('GET', '/metrics')).statusCode, 200);
  });

  it('counts the business (orders by status and channel, payments by outcome and source) and the plumbing', async () => {
    const backend = (await sys.backendAdmin('GET', '/metrics')).body;
    assert.ok(
      (sample(backend, 'tvpay_orders', { status: 'fulfilled', channel: 'sms_confirm' }) ?? 0) >= 1,
      backend
        .split('\n')
        .filter((l) => l.startsWith('tvpay_orders') || l.startsWith('http_request_duration_seconds_count'))
        .join(' ; '),
    );
    assert.ok(
      sample(backend, 'http_request_duration_seconds_count', {
        route: '/v1/orders/:orderId/payer',
        status_code: '202',
      })! >= 1,
      "sample(backend, 'http_request_duration_seconds_count', { route: '/v1/orders/:orderId/payer', status_",
    );
    assert.ok(
      sample(backend, 'tvpay_outbox_oldest_pending_age_seconds') !== undefined,
      "sample(backend, 'tvpay_outbox_oldest_pending_age_seconds') !== undefined",
    );
    assert.ok(sample(backend, 'process_cpu_user_seconds_total') !== undefined, 'the process defaults');
    assert.ok(
      sample(backend, 'tvpay_group_commit_units_count')! >= 1,
      backend
        .split('\n')
        .filter((l) => l.includes('group_commit'))
        .join(' ; '),
    );
    assert.ok(sample(backend, 'tvpay_sms', { kind: 'code' }) === undefined, 'code SMS are the payment server’s');
    const payserver = (await sys.payAdmin('GET', '/metrics')).body;
    assert.ok(
      sample(payserver, 'tvpay_payments', { status: 'captured', source: 'wallet', method: 'sms_code' })! >= 1,
      "sample(payserver, 'tvpay_payments', { status: 'captured', source: 'wallet', method: 'sms_code' })! >= 1",
    );
    assert.ok(
      sample(payserver, 'tvpay_sms', { kind: 'code' })! >= 1,
      'the code SMS, in whatever state its delivery is',
    );
    assert.match(payserver, /service="payserver"/);
  });

  it('shows dead letters to operators: the metric by topic, and an alert on every page of both consoles', async () => {
    const deadLetter = (id: string, topic: string) => ({
      id,
      topic,
      payload: '{}',
      status: 'dead_letter',
      attempts: 1440,
      next_attempt_at: sys.clock.now().toISOString(),
      locked_until: null,
      last_error: 'peer down',
      created_at: sys.clock.now().toISOString(),
      done_at: null,
      correlation_id: null,
    });
    const backendDb = sys.backend.db as unknown as Kysely<CommonTables>;
    const payDb = sys.payserver.db as unknown as Kysely<CommonTables>;
    await backendDb.insertInto('outbox').values(deadLetter('obx-dead-1', 'payment.close')).execute();
    await payDb.insertInto('outbox').values(deadLetter('obx-dead-2', 'payment.notify')).execute();
    const backend = (await sys.backendAdmin('GET', '/metrics')).body;
    assert.equal(sample(backend, 'tvpay_outbox_dead_letters', { topic: 'payment.close' }), 1);
    const payserver = (await sys.payAdmin('GET', '/metrics')).body;
    assert.equal(sample(payserver, 'tvpay_outbox_dead_letters', { topic: 'payment.notify' }), 1);
    for (const [app, cookieName, path] of [
      [sys.backend.app, 'tvpay_backend_console', '/console/overview'],
      [sys.payserver.app, 'tvpay_payserver_console', '/console/accounts'],
    ] as const) {
      const origin = app === sys.backend.app ? sys.config.publicUrls.backend : sys.config.publicUrls.payserver;
      const signedIn = await app.inject({
        method: 'POST',
        url: '/console/sign-in',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
        payload: new URLSearchParams({ token: sys.secrets.adminToken }).toString(),
      });
      const cookie = signedIn.cookies.find((c) => c.name === cookieName);
      assert.ok(cookie, `signed into ${cookieName}: ${signedIn.statusCode}`);
      const page = await app.inject({ method: 'GET', url: path, headers: { cookie: `${cookieName}=${cookie.value}` } });
      assert.equal(page.statusCode, 200, path);
      assert.match(page.body, /role="alert">死信：1 条发件箱消息/, `${path} says so`);
    }
  });
});

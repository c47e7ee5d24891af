import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/eventually.ts';
import { createOrder, newTv } from '../support/flows.ts';
import { testSystem, type TestSystem } from '../support/system.ts';
import { webhookReceiver } from '../support/webhook-receiver.ts';

let sys: TestSystem;
before(async () => {
  sys = await testSystem(); // TVPAY_WEBHOOK_ALLOW_PRIVATE off, as in production
});
after(() => sys.close());

const register = (url: string) => sys.backendAdmin('POST', '/admin/v1/webhooks', { url, events: ['*'] });

describe('webhook URLs that reach the deployment’s own networks', () => {
  it('refuses loopback, private, link-local, unspecified and metadata hosts however written, storing nothing', async () => {
    const before = (await sys.backendAdmin('GET', '/admin/v1/webhooks')).json().length;
    for (const url of [
      'http://127.0.0.1:5432/',
      'http://2130706433/',
      'http://0x7f.1/',
      'http://0177.0.0.1/',
      'http://[::1]/',
      'http://[::ffff:127.0.0.1]/',
      'http://localhost/',
      'http://10.0.0.8/hooks',
      'http://172.20.1.1/',
      'http://192.168.0.1/',
      'http://[fd00::1]/',
      'http://169.254.169.254/latest/meta-data/iam/',
      'http://[fe80::1]/',
      'http://0.0.0.0/',
      'http://metadata.google.internal/computeMetadata/v1/',
    ]) {
      const res = await register(url);
      assert.equal(res.statusCode, 422, `${url} → ${res.body}`);
      assert.equal(res.json().code, 'WEBHOOK_URL_FORBIDDEN', url);
      assert.match(res.json().detail, /public address/);
    }
    assert.equal((await sys.backendAdmin('GET', '/admin/v1/webhooks')).json().length, before);
  });

  it('accepts a public address', async () => {
    const res = await register('https://93.184.216.34/hooks');
    assert.equal(res.statusCode, 201, res.body);
    await sys.backendAdmin('DELETE', `/admin/v1/webhooks/${res.json().webhookId}`);
  });

  it('checks again at delivery: a receiver now on a loopback address gets nothing and no status is recorded', async (t) => {
    const rx = await webhookReceiver();
    t.after(() => rx.close());
    const created = await register('http://93.184.216.34/hooks');
    assert.equal(created.statusCode, 201, created.body);
    const { webhookId } = created.json();
    // What a name that resolved to a public address at registration and to 127.0.0.1 now (DNS rebinding)
    // leads to: the URL of the row now points at a local port.
    await sys.backend.db.updateTable('webhooks').set({ url: rx.url }).where('id', '=', webhookId).execute();
    const tv = await newTv(sys, 'rebind-tv');
    const orderId = await createOrder(sys, 'kids-app', tv);
    await tv('POST', `/v1/orders/${orderId}/cancel`);
    const [delivery] = await eventually(async () => {
      const list = (await sys.backendAdmin('GET', `/admin/v1/webhooks/${webhookId}/deliveries`)).json();
      assert.equal(list[0]?.attempts, 1);
      return list;
    });
    assert.equal(delivery.lastStatusCode, null, 'no status from a refused address');
    assert.equal(delivery.status, 'pending');
    assert.equal(rx.received.length, 0, 'nothing was sent to the local port');
    await sys.backendAdmin('DELETE', `/admin/v1/webhooks/${webhookId}`);
  });
});

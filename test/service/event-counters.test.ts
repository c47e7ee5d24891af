import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { enqueue } from '../../src/lib/outbox/outbox.ts';
import { NOTIFY_TOPIC } from '../../src/payserver/settlement/settlement.ts';
import { smsLog } from '../../src/sms/sms-log.ts';
import { eventually } from '../support/eventually.ts';
import { createOrder, newTv, payByReply } from '../support/flows.ts';
import { suiteSystem } from '../support/system.ts';

// The alerts (docs/prometheus-alerts.yml) take increase() of these counters: each must be there at 0 from the
// start, or the first event reads as no increase and nothing fires.

const A = '8613800138000';
const sys = suiteSystem();

/** The value of the one sample of `name` with exactly these labels (besides `service`), if exported. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const want = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort();
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)\{(.*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = m[2]!
      .split(',')
      .filter((l) => !l.startsWith('service='))
      .sort();
    if (got.join(',') === want.join(',')) return Number(m[3]);
  }
  return undefined;
}

const backendMetrics = async () => (await sys.backendAdmin('GET', '/metrics')).body;
const payserverMetrics = async () => (await sys.payAdmin('GET', '/metrics')).body;

describe('event counters', () => {
  it('a fresh service exports every counter the alerts read at 0', async () => {
    const backend = await backendMetrics();
    const payserver = await payserverMetrics();
    for (const text of [backend, payserver]) {
      assert.equal(sample(text, 'tvpay_sms_finished_total', { state: 'failed' }), 0);
      assert.equal(sample(text, 'tvpay_sms_finished_total', { state: 'delivered' }), 0);
    }
    for (const status of ['failed', 'succeeded'])
      assert.equal(sample(backend, 'tvpay_refunds_finished_total', { status }), 0, status);
    assert.equal(sample(payserver, 'tvpay_outbox_given_up_total', { topic: NOTIFY_TOPIC.name }), 0);
    assert.equal(sample(backend, 'tvpay_outbox_given_up_total', { topic: 'refund.request' }), 0, backend);
  });

  it('counts an outbox message its receiver refused', async () => {
    await enqueue(sys.payserver.db, {
      id: 'obx-refused-by-the-backend',
      topic: NOTIFY_TOPIC,
      // Not a payment event the back-end accepts: it answers 400, and the message is given up.
      payload: { type: 'payment.completed' } as never,
      now: sys.clock.now(),
    });
    sys.payserver.worker.kick();
    await eventually(async () =>
      assert.equal(sample(await payserverMetrics(), 'tvpay_outbox_given_up_total', { topic: NOTIFY_TOPIC.name }), 1),
    );
  });

  it('counts an SMS reported undelivered, once however often it is reported', async () => {
    const db = sys.payserver.db;
    const now = sys.clock.now();
    await smsLog.queued(db, { id: 'sms-undelivered', kind: 'text', to: A, from: '10690000', now });
    await smsLog.advance(db, 'sms-undelivered', 'sent', now, 'gw-undelivered');
    const dlr = `/v1/sms/dlr?token=${sys.secrets.smsInboundToken}&id=sms-undelivered&status=16`;
    for (let i = 0; i < 2; i++) assert.equal((await sys.payserverAs(undefined)('GET', dlr)).statusCode, 200);
    assert.equal(sample(await payserverMetrics(), 'tvpay_sms_finished_total', { state: 'failed' }), 1);
  });

  it('counts a refund the payment server refused', async () => {
    const tv = await newTv(sys, 'tv-refund-fails');
    const orderId = await createOrder(sys, 'vip-month', tv);
    await payByReply(sys, orderId, A, tv);
    // The payment's record no longer matches the refund's currency: the payment server answers refund.failed.
    await sys.payserver.db.updateTable('payments').set({ currency: 'XXX' }).where('order_id', '=', orderId).execute();
    const res = await sys.backendAdmin('POST', `/admin/v1/orders/${orderId}/refunds`, { reason: 'customer asked' });
    assert.equal(res.statusCode, 201, res.body);
    await eventually(async () => {
      const [r] = (await sys.backendAdmin('GET', `/admin/v1/orders/${orderId}/refunds`)).json();
      assert.equal(r.status, 'failed');
    });
    const backend = await backendMetrics();
    assert.equal(sample(backend, 'tvpay_refunds_finished_total', { status: 'failed' }), 1);
    assert.equal(sample(backend, 'tvpay_refunds_finished_total', { status: 'succeeded' }), 0);
  });
});

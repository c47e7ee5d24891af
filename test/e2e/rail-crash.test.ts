import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RAIL_CRASH_POINTS } from '../../src/lib/crash-points.ts';
import { eventually } from '../support/eventually.ts';
import { startProcesses, type Processes } from '../support/processes.ts';
import { e2eKit } from './e2e-kit.ts';

/**
 * Issue 28 item 8: the payment server killed (SIGKILL) after a rail said paid and before the capture
 * committed, then restarted: the provider's retried notification or the sweeper's query must settle the
 * order once, neither twice nor never.
 */
describe('a rail payment killed between the provider saying paid and the commit (SIGKILL, then restart)', () => {
  let p: Processes;
  let k: ReturnType<typeof e2eKit>;
  before(async () => {
    p = await startProcesses({ TVPAY_LIMIT_ORDERS_PER_DEVICE: '1000' });
    k = e2eKit(p);
  });
  after(() => p?.close());

  for (const point of RAIL_CRASH_POINTS)
    for (const rail of ['alipay', 'wechatpay'] as const) {
      it(`settles a ${rail} scan payment once when the payment server dies at ${point}`, async () => {
        await p.stop('payserver');
        await p.start('payserver', { TVPAY_CRASH_AT: point });
        const died = p.died('payserver');

        const tv = await k.newTv(`crash-${rail}`);
        const orderId = await k.order('vip-month', tv);
        const scan = await tv('POST', `/v1/orders/${orderId}/scan`, { rail });
        assert.equal(scan.status, 200, scan.text);
        const qrText = scan.json().qrText as string;
        const paid = await fetch(`${p.urls.carrier}/dev/${rail}/scan`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams(rail === 'alipay' ? { qr: qrText } : { code_url: qrText }).toString(),
        });
        assert.equal(paid.status, 200, await paid.text());

        assert.equal(await died, 'SIGKILL', 'the payment server died at the crash point');
        const before = await tv('GET', `/v1/orders/${orderId}`);
        assert.notEqual(before.json().status, 'fulfilled', 'nothing committed before the kill');
        await p.start('payserver', {});

        // Alipay retries a notification after minutes; the sweeper's query comes within seconds.
        const order = await eventually(
          async () => {
            const o = (await tv('GET', `/v1/orders/${orderId}`)).json();
            assert.equal(o.status, 'fulfilled', `order is ${o.status}`);
            return o;
          },
          120_000,
          500,
        );
        assert.equal(order.paidWith, rail);
        await eventually(
          async () => {
            const payments = (await k.payAdmin('GET', `/admin/v1/payments?orderId=${orderId}`)).json<
              Array<{ status: string; source: string; refundedMinor: number; refunds: unknown[] }>
            >();
            assert.deepEqual(
              payments.map((x) => [x.source, x.status, x.refundedMinor, x.refunds.length]),
              [[rail, 'captured', 0, 0]],
              'one capture, nothing refunded',
            );
            const timeline = (await k.backendAdmin('GET', `/admin/v1/orders/${orderId}/timeline`)).json<
              Array<{ kind: string; summary: string }>
            >();
            const applied = timeline.filter((t) => t.kind === 'message' && t.summary === 'payment.completed applied');
            assert.equal(applied.length, 1, 'one payment.completed applied');
          },
          30_000,
          250,
        );
        const ents = (await tv('GET', '/v1/entitlements')).json() as Array<{ orderId: string }>;
        assert.equal(ents.filter((e) => e.orderId === orderId).length, 1, 'one entitlement extension');
        await k.assertLedgerSound();
      });
    }
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/eventually.ts';
import { freshServiceDatabases, pgSkip } from '../support/pg.ts';
import { startProcesses, type Processes } from '../support/processes.ts';
import { webhookReceiver } from '../support/webhook-receiver.ts';
import { e2eKit } from './e2e-kit.ts';

const WALLET_COVERS = '8613800138000';
const FULFILMENT_SECRET = 'the-operators-provisioning-secret';

const SETUPS = [
  { name: 'SQLite, one instance of each service', postgres: false, instances: 1 },
  { name: 'PostgreSQL, two instances of each service behind round-robin proxies', postgres: true, instances: 2 },
];

for (const setup of SETUPS) {
  const skip = setup.postgres ? await pgSkip() : false;

  describe(`refunds, provisioning and webhooks end to end: ${setup.name}`, { skip }, () => {
    let p: Processes;
    let k: ReturnType<typeof e2eKit>;
    let operator: Awaited<ReturnType<typeof webhookReceiver>>;
    /** The operator's webhook receiver: it fails every delivery on purpose at first, then takes the retries. */
    let hooks: Awaited<ReturnType<typeof webhookReceiver>>;
    const dbs: Array<{ drop(): Promise<void> }> = [];
    before(async () => {
      operator = await webhookReceiver();
      operator.setSecret(FULFILMENT_SECRET);
      hooks = await webhookReceiver();
      const env: Record<string, string> = {
        TVPAY_FULFILMENT_URL: operator.url,
        TVPAY_FULFILMENT_SECRET: FULFILMENT_SECRET,
        TVPAY_WEBHOOK_ALLOW_PRIVATE: '1', // the webhook receiver listens on 127.0.0.1
      };
      if (setup.postgres) {
        const pg = await freshServiceDatabases();
        dbs.push(pg);
        Object.assign(env, pg.env);
      }
      p = await startProcesses(env, { instances: setup.instances });
      k = e2eKit(p);
    });
    after(async () => {
      await p?.close();
      await operator?.close();
      await hooks?.close();
      for (const d of dbs) await d.drop();
    });

    it("provisions in the operator's system, refunds racing requests exactly up to what was paid, and signs every webhook", async () => {
      const reg = await k.backendAdmin('POST', '/admin/v1/webhooks', { url: hooks.url, events: ['*'] });
      assert.equal(reg.status, 201, reg.text);
      hooks.setSecret(reg.json().secret);
      hooks.answer(500);

      const before = await k.account(`+${WALLET_COVERS}`);
      const tv = await k.newTv('ops-tv');
      const created = await tv('POST', '/v1/orders', { productId: 'vip-month' });
      const orderId = created.json().orderId as string;
      const seen = (await k.inbox(WALLET_COVERS)).length;
      assert.equal((await tv('POST', `/v1/orders/${orderId}/payer`, { phone: WALLET_COVERS })).status, 202);
      await k.reply(WALLET_COVERS, k.codeIn((await k.nextSms(WALLET_COVERS, seen)).text));
      const fulfilled = await eventually(async () => {
        const o = (await tv('GET', `/v1/orders/${orderId}`)).json();
        assert.equal(o.status, 'fulfilled');
        return o;
      });
      const provisioning = operator.ofType('order.paid').find((r) => r.json.data.orderId === orderId);
      assert.ok(provisioning?.signed, "the operator's system got a signed order.paid");
      assert.ok(fulfilled.fulfilledAt >= provisioning!.json.createdAt);

      // Ten refunds of 10.00 at once, spread over the instances: 25.00 was paid, so exactly two fit.
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          k.backendAdmin('POST', `/admin/v1/orders/${orderId}/refunds`, { amountMinor: 1000, reason: `race ${i}` }),
        ),
      );
      assert.equal(answers.filter((a) => a.status === 201).length, 2, answers.map((a) => a.status).join(','));
      assert.ok(
        answers.every((a) => a.status === 201 || (a.status === 422 && a.json().code === 'REFUND_EXCEEDS_PAYMENT')),
      );
      const rest = await k.backendAdmin('POST', `/admin/v1/orders/${orderId}/refunds`, { reason: 'the rest' });
      assert.equal(rest.status, 201, rest.text);
      assert.equal(rest.json().amountMinor, 500);
      const refunded = await eventually(async () => {
        const o = (await tv('GET', `/v1/orders/${orderId}`)).json();
        assert.equal(o.status, 'refunded');
        return o;
      }, 20_000);
      assert.equal(refunded.refundedMinor, 2500);
      assert.equal((await k.account(`+${WALLET_COVERS}`)).wallet.balanceMinor, before.wallet.balanceMinor);
      const payments = (await k.payAdmin('GET', `/admin/v1/payments?orderId=${orderId}`)).json();
      assert.equal(payments[0].status, 'refunded');
      assert.equal(payments[0].refunds.length, 3);
      await k.assertLedgerSound();

      // Every event failed once on purpose and came again (first retry within 15 s), signed, with its id.
      hooks.answer(200);
      const types = ['order.paid', 'order.fulfilled', 'refund.succeeded', 'order.refunded'];
      await eventually(
        () => {
          for (const type of types) {
            const mine = hooks.ofType(type).filter((r) => r.json.data.orderId === orderId);
            assert.ok(mine.length >= 2, `${type} was not retried yet`);
          }
        },
        30_000,
        200,
      );
      assert.ok(
        hooks.received.every((r) => r.signed),
        'every webhook signature verifies',
      );
      const deliveries = (await k.backendAdmin('GET', `/admin/v1/webhooks/${reg.json().webhookId}/deliveries`)).json();
      await eventually(
        async () => {
          const now = (await k.backendAdmin('GET', `/admin/v1/webhooks/${reg.json().webhookId}/deliveries`)).json();
          assert.ok(
            now.every((d: { status: string }) => d.status === 'delivered'),
            'all delivered',
          );
        },
        30_000,
        200,
      );
      assert.ok(deliveries.length >= 6);
      const timeline = (await k.backendAdmin('GET', `/admin/v1/orders/${orderId}/timeline`)).json();
      assert.deepEqual(
        timeline.filter((e: { kind: string }) => e.kind === 'status').map((e: { summary: string }) => e.summary),
        ['created', 'awaiting_payment', 'paid', 'fulfilled', 'refunded'],
      );
    });
  });
}

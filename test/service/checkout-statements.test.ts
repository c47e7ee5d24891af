import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backendAlone, BOUND, type BackendAlone } from '../support/backend-alone.ts';
import { eventually } from '../support/eventually.ts';
import { freshPgDatabase, pgSkip } from '../support/pg.ts';
import { recordPgWire, type SentStatement } from '../support/pg-wire.ts';

// What a checkout asks of the back-end's PostgreSQL (issue 30), held statement by statement at the wire: each
// test names a path and the statements it may cost, on the back-end alone with a fake payment server.

const skip = await pgSkip();

/** The statements sent from `from` on whose text starts with `prefix`. */
const sentLike = (sent: SentStatement[], from: number, prefix: string) =>
  sent.slice(from).filter((s) => s.text.startsWith(prefix));

describe("a checkout's statements on the back-end's PostgreSQL", { skip }, () => {
  const wire = recordPgWire();
  let k: BackendAlone;
  let drop: () => Promise<void> = async () => {};
  before(async () => {
    const pg = await freshPgDatabase();
    drop = pg.drop;
    const closing: Array<() => Promise<void>> = [];
    const env = { TVPAY_BACKEND_DATABASE_URL: pg.url, TVPAY_WEBHOOK_ALLOW_PRIVATE: '1' };
    k = await backendAlone({ after: (fn) => void closing.push(fn) }, env);
    drop = async () => {
      for (const fn of closing) await fn();
      await pg.drop();
    };
  });
  after(async () => {
    wire.stop();
    await drop();
  });

  it("takes a bound payer's channel in one statement of its own and marks the start message done after it", async () => {
    const tv = await k.newTv('wire-bound');
    const orderId = await k.order('kids-app', tv);
    const from = wire.sent.length;
    const res = await tv('POST', `/v1/orders/${orderId}/payer`, { phone: BOUND });
    assert.equal(res.statusCode, 202, res.body);
    assert.equal(res.json().channel, 'sms_confirm', 'the 202 already shows the channel the inline run took');
    await eventually(async () => {
      const start = await k.db
        .selectFrom('outbox')
        .select('status')
        .where('topic', '=', 'payment.start')
        .where('payload', 'like', `%${orderId}%`)
        .executeTakeFirstOrThrow();
      assert.equal(start.status, 'done', 'the inline run marked the start message done');
    });
    const channel = sentLike(wire.sent, from, 'with "m" as (update "orders" set "channel"');
    assert.equal(channel.length, 1, 'the channel is taken by one statement');
    assert.equal(channel[0]!.inTransaction, false, 'with no BEGIN and COMMIT around it');
    const single = sentLike(wire.sent, from, 'update "outbox" set "status" = $1, "done_at" = $2 where "id" = $3');
    assert.deepEqual(single, [], 'no done mark of its own: it goes with the others of its tick');
  });

  it('reads the webhooks with the paid and fulfilled moves, and fans both events out to one registered before', async () => {
    const hook = await k.backendAdmin('POST', '/admin/v1/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['*'] });
    assert.equal(hook.statusCode, 201, hook.body);
    const tv = await k.newTv('wire-paid');
    const orderId = await k.order('kids-app', tv);
    assert.equal((await tv('POST', `/v1/orders/${orderId}/payer`, { phone: BOUND })).statusCode, 202);
    await k.started(orderId);
    const from = wire.sent.length;
    await k.provider.complete(orderId);
    await k.until(orderId, 'fulfilled', tv);
    const deliveries = await k.backendAdmin('GET', `/admin/v1/webhooks/${hook.json().webhookId}/deliveries`);
    const types = (deliveries.json() as Array<{ type: string }>).map((d) => d.type).sort();
    assert.deepEqual(types, ['order.fulfilled', 'order.paid'], 'both events went to the webhook');
    const reads = sentLike(wire.sent, from, 'select * from "webhooks" where "deleted_at" is null');
    assert.deepEqual(reads, [], 'no read of the webhooks of its own: the moves read them');
  });

  it("creates a TV's first order in two statements of their own, and still replaces its open order", async () => {
    const tv = await k.newTv('wire-create');
    const from = wire.sent.length;
    const first = await k.order('kids-app', tv);
    const create = wire.sent
      .slice(from)
      .filter((s) => /^(insert into "rate_limits"|with "m" as \(insert into "orders")/.test(s.text));
    assert.deepEqual(
      create.map((s) => s.inTransaction),
      [false, false],
      'the limit, then the order, each with no BEGIN and COMMIT around it',
    );
    const second = await k.order('kids-app', tv);
    const replaced = (await tv('GET', `/v1/orders/${first}`)).json();
    assert.deepEqual([replaced.status, replaced.failureCode], ['cancelled', 'REPLACED'], 'the open order was replaced');
    assert.equal((await tv('GET', `/v1/orders/${second}`)).json().status, 'created', 'by the new one');
  });
});

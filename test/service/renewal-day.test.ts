import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventually } from '../support/eventually.ts';
import { assertRenewalsEnded, createOrder, payByReply } from '../support/flows.ts';
import { lifted, suiteSystem } from '../support/system.ts';

const A = '8613800138000';
const COPIES = 449;
const sys = suiteSystem({
  ...lifted(['PAYER_PER_PHONE', 'CODES_PER_PHONE']),
  TVPAY_TEST_CLOCK: '1',
});

describe('renewal day', () => {
  it('claims every subscription due at once in one pass of the scheduler, more than a batch, each once, and records each failed try with its order', async () => {
    // One real renewing purchase; its subscription copied so that 450 fall due at the same moment.
    const orderId = await createOrder(sys, 'uhd-monthly');
    await payByReply(sys, orderId, A);
    const db = sys.backend.db;
    const template = await db.selectFrom('subscriptions').selectAll().executeTakeFirstOrThrow();
    await db.updateTable('subscriptions').set({ noticed_for: template.current_period_end }).execute();
    for (let i = 0; i < COPIES; i++) {
      await db
        .insertInto('subscriptions')
        .values({
          ...template,
          id: `sub_day_${i}`,
          account_id: `acct_day_${i}`,
          noticed_for: template.current_period_end,
        })
        .execute();
    }

    await sys.advance(Date.parse(template.current_period_end) - sys.clock.now().getTime() + 1000);
    const renewals = () =>
      db
        .selectFrom('orders')
        .select(['id', 'status', 'subscription_id', 'failure_code'])
        .where('channel', '=', 'renewal')
        .execute();
    const made = await renewals();
    assert.equal(
      made.length,
      COPIES + 1,
      'every due subscription was claimed by the one pass (some are renewed already)',
    );
    assert.equal(new Set(made.map((o) => o.subscription_id)).size, COPIES + 1, 'each once');
    await sys.backend.sweep();
    assert.equal((await renewals()).length, COPIES + 1, 'a second pass claims none again');

    // One wallet pays them all until it runs dry: every renewal ends paid or failed, and each failed
    // try is recorded on its subscription with the order's end (the scheduler's backstop runs once a minute).
    const ended = await eventually(
      async () => {
        const rows = await renewals();
        assertRenewalsEnded(rows);
        return rows;
      },
      60_000,
      200,
    );
    const failed = ended.filter((o) => o.status === 'failed');
    assert.ok(
      failed.length > 0 && failed.length < ended.length,
      `some paid and some failed (${failed.length} of ${ended.length} failed)`,
    );
    assert.ok(
      failed.every((o) => o.failure_code === 'INSUFFICIENT_FUNDS'),
      "failed.every((o) => o.failure_code === 'INSUFFICIENT_FUNDS')",
    );
    await eventually(async () => {
      const subs = await db
        .selectFrom('subscriptions')
        .select(['id', 'failed_tries', 'pending_order_id'])
        .where(
          'id',
          'in',
          failed.map((o) => o.subscription_id!),
        )
        .execute();
      assert.ok(
        subs.every((s) => s.failed_tries === 1 && s.pending_order_id === null),
        'each failed try recorded, the charge free for its retry',
      );
    });
  });
});

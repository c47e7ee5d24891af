import assert from 'node:assert/strict';
import pg from 'pg';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/eventually.ts';
import { assertRenewalsEnded } from '../support/flows.ts';
import { freshServiceDatabases, pgSkip } from '../support/pg.ts';
import { startProcesses, type Processes } from '../support/processes.ts';
import { e2eKit, subscribedTv, untilRenewed } from './e2e-kit.ts';

const WALLET_COVERS = '8613800138000';
const DAY_S = 24 * 3600;
const skip = await pgSkip();

describe('renewals on PostgreSQL with two instances of each service running the scheduler', { skip }, () => {
  let p: Processes;
  let k: ReturnType<typeof e2eKit>;
  const dbs: Array<{ drop(): Promise<void> }> = [];
  let pgEnv: { TVPAY_BACKEND_DATABASE_URL: string; TVPAY_PAYSERVER_DATABASE_URL: string };
  before(async () => {
    const fresh = await freshServiceDatabases();
    dbs.push(fresh);
    pgEnv = fresh.env;
    p = await startProcesses({ ...fresh.env, TVPAY_TEST_CLOCK: '1' }, { instances: 2 });
    k = e2eKit(p);
  });
  after(async () => {
    await p?.close();
    for (const d of dbs) await d.drop();
  });

  /** Each process has its own test clock: move every service instance's by the same amount. */
  async function moveAllClocks(seconds: number) {
    for (const base of [...p.instanceUrls.payserver, ...p.instanceUrls.backend]) {
      const res = await fetch(`${base}/admin/v1/test-clock`, {
        method: 'POST',
        headers: { authorization: `Bearer ${p.secrets.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ advanceSeconds: seconds }),
      });
      assert.equal(res.status, 200, await res.text());
    }
  }

  it('charges a due renewal exactly once although both back-ends run the scheduler', async () => {
    const { tv, sub } = await subscribedTv(k, 'renewal-race-tv', WALLET_COVERS);
    const before = await k.account(`+${WALLET_COVERS}`);
    await moveAllClocks(31 * DAY_S);
    await untilRenewed(tv, sub.currentPeriodEnd, 30_000);
    // Give the other instance every chance to charge a second time.
    await new Promise((r) => setTimeout(r, 3000));
    const renewals = (await k.backendAdmin('GET', '/admin/v1/orders?accountId=acct-renewal-race-tv&limit=50'))
      .json()
      .items.filter((o: { channel: string }) => o.channel === 'renewal');
    assert.equal(renewals.length, 1, 'one renewal order');
    assert.equal(renewals[0].status, 'fulfilled');
    assert.equal(
      (await k.account(`+${WALLET_COVERS}`)).wallet.balanceMinor,
      before.wallet.balanceMinor - 3000,
      'one charge',
    );
    const payments = (await k.payAdmin('GET', `/admin/v1/payments?orderId=${renewals[0].orderId}`)).json();
    assert.equal(payments.length, 1);
    assert.equal(payments[0].method, 'renewal');
    await k.assertLedgerSound();
  });

  it('charges 300 subscriptions due at the same moment once each while both back-ends claim them side by side', async () => {
    const backendDb = new pg.Client({ connectionString: pgEnv.TVPAY_BACKEND_DATABASE_URL });
    const payserverDb = new pg.Client({ connectionString: pgEnv.TVPAY_PAYSERVER_DATABASE_URL });
    await backendDb.connect();
    await payserverDb.connect();
    try {
      // Copies of the renewed subscription, all due now (by the processes' moved clocks), their notices sent.
      const now = (await k.backendAdmin('GET', '/admin/v1/test-clock')).json().now as string;
      const {
        rows: [template],
      } = await backendDb.query('SELECT id FROM subscriptions LIMIT 1');
      await backendDb.query(
        `INSERT INTO subscriptions
         SELECT (jsonb_populate_record(NULL::subscriptions, to_jsonb(t) || jsonb_build_object('id', 'sub_day_' || i, 'account_id', 'acct_day_' || i, 'next_charge_at', $2::text, 'noticed_for', t.current_period_end, 'pending_order_id', NULL))).*
         FROM subscriptions t, generate_series(1, 300) i WHERE t.id = $1`,
        [template.id, now],
      );
      const renewalsOf = async () =>
        (
          await backendDb.query(
            "SELECT subscription_id, status FROM orders WHERE channel = 'renewal' AND subscription_id LIKE 'sub_day_%'",
          )
        ).rows as Array<{ subscription_id: string; status: string }>;
      const ended = await eventually(
        async () => {
          const rows = await renewalsOf();
          assert.equal(rows.length, 300, 'each due subscription has its renewal order');
          assertRenewalsEnded(rows);
          return rows;
        },
        60_000,
        250,
      );
      assert.equal(new Set(ended.map((o) => o.subscription_id)).size, 300, 'one renewal order per subscription');
      // Give both schedulers more passes to charge anything twice.
      await new Promise((r) => setTimeout(r, 3000));
      assert.equal((await renewalsOf()).length, 300, 'no second renewal order');
      const twice = await payserverDb.query(
        "SELECT order_id FROM payments WHERE method = 'renewal' AND status IN ('captured', 'refunded') GROUP BY order_id HAVING count(*) > 1",
      );
      assert.deepEqual(twice.rows, [], 'no renewal order charged twice');
      const fulfilled = ended.filter((o) => o.status === 'fulfilled').length;
      const {
        rows: [captured],
      } = await payserverDb.query(
        "SELECT count(*)::int AS n FROM payments WHERE method = 'renewal' AND status = 'captured'",
      );
      assert.equal(captured.n, fulfilled + 1, "one capture per fulfilled renewal (and the first test's)");
      await k.assertLedgerSound();
    } finally {
      await backendDb.end();
      await payserverDb.end();
    }
  });
});

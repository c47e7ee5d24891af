import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RENEWAL_CRASH_POINTS } from '../../src/lib/crash-points.ts';
import { eventually } from '../support/eventually.ts';
import { startProcesses, type Processes } from '../support/processes.ts';
import { e2eKit, subscribedTv, untilRenewed } from './e2e-kit.ts';

const PHONE = '8613800138000';
const DAY_S = 24 * 3600;

describe('a renewal charge survives a SIGKILL at each of its step boundaries (SQLite)', () => {
  let p: Processes;
  let k: ReturnType<typeof e2eKit>;
  before(async () => {
    p = await startProcesses({
      TVPAY_TEST_CLOCK: '1',
      TVPAY_LIMIT_PAYER_PER_PHONE: '1000',
      TVPAY_LIMIT_CODES_PER_PHONE: '1000',
    });
    k = e2eKit(p);
  });
  after(() => p?.close());

  const clockOf = async (part: 'backend' | 'payserver') =>
    Date.parse(
      (
        await fetch(`${p.instanceUrls[part][0]}/admin/v1/test-clock`, {
          headers: { authorization: `Bearer ${p.secrets.adminToken}` },
        }).then((r) => r.json())
      ).now,
    );
  const advance = async (part: 'backend' | 'payserver', seconds: number) => {
    const res = await fetch(`${p.instanceUrls[part][0]}/admin/v1/test-clock`, {
      method: 'POST',
      headers: { authorization: `Bearer ${p.secrets.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ advanceSeconds: Math.max(1, Math.round(seconds)) }),
    });
    assert.equal(res.status, 200, await res.text());
  };

  for (const point of RENEWAL_CRASH_POINTS) {
    it(`charges once and renews when killed at ${point}`, async () => {
      const part = point.startsWith('backend') ? 'backend' : 'payserver';
      const other = part === 'backend' ? 'payserver' : 'backend';
      // Both clocks start level: a restarted process's test clock starts again at the system time.
      const lag = (await clockOf(other)) - (await clockOf(part));
      if (lag > 1000) await advance(part, lag / 1000);
      else if (lag < -1000) await advance(other, -lag / 1000);
      const { tv, sub } = await subscribedTv(k, `crash-${point}`, PHONE);

      await p.stop(part);
      await p.start(part, { TVPAY_CRASH_AT: point });
      const dead = p.died(part);
      // The restarted part's clock starts over: level it with the other's, then move both past the period end.
      await advance(part, ((await clockOf(other)) - (await clockOf(part))) / 1000);
      const before = await k.account(`+${PHONE}`);
      await advance(other, 31 * DAY_S);
      await advance(part, 31 * DAY_S);
      assert.equal(await dead, 'SIGKILL', `${part} died at ${point}`);
      await p.start(part, {});
      await advance(part, ((await clockOf(other)) - (await clockOf(part))) / 1000);

      await untilRenewed(tv, sub.currentPeriodEnd, 60_000);
      const account = await eventually(async () => {
        const a = await k.account(`+${PHONE}`);
        assert.equal(a.wallet.heldMinor, 0);
        return a;
      });
      assert.equal(account.wallet.balanceMinor, before.wallet.balanceMinor - 3000, 'charged exactly once');
      const renewals = (await k.backendAdmin('GET', `/admin/v1/orders?accountId=acct-crash-${point}&limit=50`))
        .json()
        .items.filter((o: { channel: string }) => o.channel === 'renewal');
      assert.equal(renewals.length, 1);
      assert.equal(renewals[0].status, 'fulfilled');
      await k.assertLedgerSound();
      await tv('POST', `/v1/subscriptions/${sub.subscriptionId}/cancel`);
    });
  }
});

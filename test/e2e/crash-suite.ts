import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CRASH_POINTS } from '../../src/lib/crash-points.ts';
import { eventually } from '../support/eventually.ts';
import { pgSkip } from '../support/pg.ts';
import { startProcesses, type Processes } from '../support/processes.ts';
import { e2eKit } from './e2e-kit.ts';

const PHONE = '8613800138000';

/**
 * The crash suite on one store: each crash point in its own test, the service killed there and
 * restarted. SQLite and PostgreSQL are two files so that each has the runner's whole time limit.
 */
export async function crashSuite(postgres: boolean): Promise<void> {
  const skip = postgres ? await pgSkip() : false;

  describe(
    `crash at every step boundary (SIGKILL, then restart) on ${postgres ? 'PostgreSQL' : 'SQLite'}`,
    { skip },
    () => {
      let p: Processes;
      let k: ReturnType<typeof e2eKit>;
      before(async () => {
        const env = { TVPAY_LIMIT_PAYER_PER_PHONE: '1000', TVPAY_LIMIT_CODES_PER_PHONE: '1000' };
        p = await startProcesses(env, { postgres });
        k = e2eKit(p);
      });
      after(async () => {
        await p?.close();
      });

      for (const point of CRASH_POINTS) {
        it(`loses no money, moves none twice and still fulfils the order when killed at ${point}`, async () => {
          const part = point.startsWith('backend') ? 'backend' : 'payserver';
          await p.stop(part);
          await p.start(part, { TVPAY_CRASH_AT: point });
          let signal: string | number | null | undefined;
          void p.died(part).then((s) => (signal = s));
          let restarted = false;
          const restartIfDead = async () => {
            if (restarted || signal === undefined) return;
            assert.equal(signal, 'SIGKILL', `${part} died by the crash point`);
            restarted = true;
            await p.start(part, {});
          };

          const before = await k.account(PHONE);
          const seen = (await k.inbox(PHONE)).length;
          const orderId = await k.order('kids-app');
          await k.tv('POST', `/v1/orders/${orderId}/payer`, { phone: '13800138000' }).catch(() => undefined);

          const replied = new Set<string>();
          await eventually(
            async () => {
              await restartIfDead();
              const inbox = (await k.inbox(PHONE)).slice(seen);
              for (const sms of inbox) {
                if (replied.has(sms.id)) continue;
                replied.add(sms.id);
                await k.reply(PHONE, k.codeIn(sms.text));
              }
              const order = (await k.tv('GET', `/v1/orders/${orderId}`)).json();
              assert.equal(order.status, 'fulfilled', `order is ${order.status} ${order.failureCode ?? ''}`);
            },
            60_000,
            200,
          );
          // The kill may come just after the order is fulfilled (after-notify: the back-end has already taken the
          // message), so the death is waited for, then the part restarted before anything else is checked.
          await eventually(
            async () => {
              await restartIfDead();
              assert.ok(restarted, `the crash point ${point} was reached`);
            },
            15_000,
            100,
          );

          const afterAll = await eventually(async () => {
            const a = await k.account(PHONE);
            assert.equal(a.wallet.heldMinor, 0);
            return a;
          });
          assert.equal(afterAll.wallet.balanceMinor, before.wallet.balanceMinor - 990, 'charged exactly once');
          assert.deepEqual(afterAll.card, before.card);
          const ents = (await k.tv('GET', '/v1/entitlements')).json();
          assert.ok(
            ents.some((e: { orderId: string }) => e.orderId === orderId),
            'the entitlement is on',
          );
          await k.assertLedgerSound();
        });
      }
    },
  );
}

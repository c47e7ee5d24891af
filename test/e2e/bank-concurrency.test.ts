import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/eventually.ts';
import { freshServiceDatabases, pgSkip } from '../support/pg.ts';
import { startProcesses, type Processes } from '../support/processes.ts';
import { e2eKit } from './e2e-kit.ts';

const ORDERS = Number(process.env.TVPAY_BANK_ORDERS ?? 40);
const WORKERS = Number(process.env.TVPAY_BANK_WORKERS ?? 8);
const PHONES = ['13500135001', '13500135002', '13500135003', '13500135004', '13500135005'];
const PRICES: Record<string, number> = { 'kids-app': 990, 'vip-month': 2500, 'vip-year': 20000 };
const NO_LIMITS = {
  TVPAY_LIMIT_PAYER_PER_PHONE: '100000',
  TVPAY_LIMIT_PAYER_PER_DEVICE: '100000',
  TVPAY_LIMIT_CODES_PER_PHONE: '100000',
  TVPAY_LIMIT_CODES_PER_DEVICE: '100000',
  TVPAY_LIMIT_PAYER_PER_ACCOUNT: '100000',
  TVPAY_LIMIT_PAYER_PER_PREFIX: '100000',
};

const SETUPS = [
  {
    name: 'SQLite: one back-end, two payment servers on one file',
    postgres: false,
    instances: 1,
    payserverInstances: 2,
  },
  { name: 'PostgreSQL: two back-ends, two payment servers', postgres: true, instances: 2, payserverInstances: 2 },
];

/** Runs `jobs` with at most `n` at a time. */
async function pool<T>(n: number, jobs: Array<() => Promise<T>>): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < jobs.length) {
        const i = next++;
        results[i] = await jobs[i]!();
      }
    }),
  );
  return results;
}

for (const setup of SETUPS) {
  const skip = setup.postgres ? await pgSkip() : false;

  describe(`bank-style concurrency: ${setup.name}`, { skip }, () => {
    let p: Processes;
    let k: ReturnType<typeof e2eKit>;
    const dbs: Array<{ drop(): Promise<void> }> = [];
    before(async () => {
      const env: Record<string, string> = { ...NO_LIMITS };
      if (setup.postgres) {
        const pg = await freshServiceDatabases();
        dbs.push(pg);
        Object.assign(env, pg.env);
      }
      p = await startProcesses(env, { instances: setup.instances, payserverInstances: setup.payserverInstances });
      k = e2eKit(p);
      for (const [i, phone] of PHONES.entries()) {
        const res = await k.payAdmin('POST', '/admin/v1/accounts', {
          phone,
          currency: 'CNY',
          walletMinor: 6000,
          quickPay: true,
          ...(i % 2 ? {} : { card: { last4: `000${i}`, balanceMinor: 6000 } }),
        });
        assert.equal(res.status, 201, res.text);
      }
    });
    after(async () => {
      await p?.close();
      for (const d of dbs) await d.drop();
    });

    it('conserves money, never goes negative, pays each order at most once and fulfils every paid order', async () => {
      const total = async () => {
        const accounts = await Promise.all(PHONES.map((ph) => k.account(ph)));
        return {
          money: accounts.reduce((s, a) => s + a.wallet.balanceMinor + (a.card?.balanceMinor ?? 0), 0),
          held: accounts.reduce((s, a) => s + a.wallet.heldMinor + (a.card?.heldMinor ?? 0), 0),
          negative: accounts.some((a) => a.wallet.balanceMinor < 0 || (a.card?.balanceMinor ?? 0) < 0),
        };
      };
      const before = await total();
      const products = Object.keys(PRICES);
      const orders: Array<{ orderId: string; productId: string; tv: Awaited<ReturnType<typeof k.newTv>> }> = [];

      // TVs race: orders and payer submissions, some orders getting two phones at once.
      await pool(
        WORKERS,
        Array.from({ length: ORDERS }, (_, i) => async () => {
          const productId = products[i % products.length]!;
          // Each order on a TV of its own: a TV has one open order at most.
          const tv = await k.newTv(`bank-${i}`);
          const created = await tv('POST', '/v1/orders', { productId });
          assert.equal(created.status, 201, created.text);
          const orderId = created.json().orderId as string;
          orders.push({ orderId, productId, tv });
          const phones =
            i % 5 === 0 ? [PHONES[i % PHONES.length]!, PHONES[(i + 1) % PHONES.length]!] : [PHONES[i % PHONES.length]!];
          const answers = await Promise.all(
            phones.map((phone) => tv('POST', `/v1/orders/${orderId}/payer`, { phone })),
          );
          // A racing second submission may find the first one already failed (final): 409 ORDER_FINAL is right then.
          for (const a of answers)
            assert.ok(a.status === 202 || (a.status === 409 && a.json().code === 'ORDER_FINAL'), a.text);
          assert.ok(
            answers.some((a) => a.status === 202),
            'answers.some((a) => a.status === 202)',
          );
        }),
      );

      // Phones race: every code SMS is answered, in whatever order, from every phone at once.
      const replied = new Set<string>();
      const settled = async () => {
        const statuses = await Promise.all(
          orders.map(async (o) => (await o.tv('GET', `/v1/orders/${o.orderId}`)).json().status as string),
        );
        return statuses.every((s) => ['fulfilled', 'failed', 'cancelled', 'expired'].includes(s));
      };
      await eventually(
        async () => {
          await Promise.all(
            PHONES.map(async (phone) => {
              for (const sms of await k.inbox(`86${phone}`)) {
                if (replied.has(sms.id)) continue;
                replied.add(sms.id);
                await k.reply(`86${phone}`, k.codeIn(sms.text));
              }
            }),
          );
          assert.ok(await settled(), 'every order reaches a final status');
        },
        90_000,
        200,
      );

      const finals = await Promise.all(
        orders.map(async (o) => ({ ...o, order: (await o.tv('GET', `/v1/orders/${o.orderId}`)).json() })),
      );
      const fulfilled = finals.filter((f) => f.order.status === 'fulfilled');
      assert.ok(fulfilled.length > 0, 'some orders were paid');
      assert.ok(
        finals.some((f) => f.order.failureCode === 'INSUFFICIENT_FUNDS'),
        'some orders ran out of money',
      );
      const after = await eventually(async () => {
        const t = await total();
        assert.equal(t.held, 0, 'nothing stays held');
        return t;
      });
      assert.equal(after.negative, false, 'no balance is negative');
      const charged = fulfilled.reduce((s, f) => s + PRICES[f.productId]!, 0);
      assert.equal(before.money - after.money, charged, 'exactly the fulfilled orders were charged, each once');
      await k.assertLedgerSound();
    });
  });
}

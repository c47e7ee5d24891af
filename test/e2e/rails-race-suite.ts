import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/eventually.ts';
import { pgSkip } from '../support/pg.ts';
import { startProcesses, type Processes } from '../support/processes.ts';
import { e2eKit } from './e2e-kit.ts';

/** The demo phone bound to a wallet: its pre-pay code SMS is the SMS channel of the race. */
const PHONE = '8613800138000';
const ORDERS = 10;

interface PaymentRow {
  paymentId: string;
  source: string | null;
  amountMinor: number;
  refundedMinor: number;
  status: string;
}

/** A development gateway's scan page, as the payer's app posts it when its Pay button is pressed. */
async function payOnScanPage(p: Processes, rail: 'alipay' | 'wechatpay', qrText: string): Promise<number> {
  const res = await fetch(`${p.urls.carrier}/dev/${rail}/scan`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(rail === 'alipay' ? { qr: qrText } : { code_url: qrText }).toString(),
  });
  await res.text();
  return res.status;
}

/**
 * The payer on the order's checkout page picks WeChat Pay: the page's form answers 303 to the development
 * WeChat Pay's H5 cashier. Returns the cashier's form fields, so that pressing Pay can join the race.
 */
async function openWechatPage(p: Processes, payUrl: string): Promise<Record<string, string>> {
  const res = await fetch(`${payUrl}/rail`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'rail=wechatpay',
    redirect: 'manual',
  });
  await res.text();
  assert.equal(res.status, 303, `the page's WeChat Pay form answered ${res.status}`);
  const cashier = new URL(res.headers.get('location')!);
  assert.equal(cashier.origin, new URL(p.urls.carrier).origin, 'to the development WeChat Pay');
  return {
    prepay_id: cashier.searchParams.get('prepay_id')!,
    redirect_url: cashier.searchParams.get('redirect_url')!,
    action: 'pay',
  };
}

/** Presses Pay on the development WeChat Pay's cashier. */
async function payAtWechatCashier(p: Processes, fields: Record<string, string>): Promise<number> {
  const res = await fetch(`${p.urls.carrier}/dev/wechatpay/cashier`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
    redirect: 'manual',
  });
  await res.text();
  return res.status;
}

/**
 * Issue 28 item 8: one order, three ways to pay it fired at once over real processes: the Alipay QR paid on
 * the development scan page, the bound phone's SMS reply with its pre-pay code (the wallet), and a page
 * payment: WeChat Pay chosen on the order's checkout page and paid on its cashier. Whichever wins, the order settles once; every other money movement is
 * released (the wallet's hold) or refunded in full (a rail's capture), and the balances add up.
 */
export async function raceSuite(postgres: boolean): Promise<void> {
  const skip = postgres ? await pgSkip() : false;
  describe(
    `three ways to pay one order, racing, on ${postgres ? 'PostgreSQL, two of each service' : 'SQLite'}`,
    { skip },
    () => {
      let p: Processes;
      let k: ReturnType<typeof e2eKit>;
      before(async () => {
        const env = {
          TVPAY_LIMIT_PAYER_PER_PHONE: '1000',
          TVPAY_LIMIT_CODES_PER_PHONE: '1000',
          TVPAY_LIMIT_ORDERS_PER_DEVICE: '1000',
        };
        p = await startProcesses(env, postgres ? { instances: 2, postgres } : {});
        k = e2eKit(p);
      });
      after(async () => {
        await p?.close();
      });

      it(`settles each of ${ORDERS} raced orders once and releases or refunds every other movement`, async () => {
        const start = await k.account(PHONE);
        const winners: string[] = [];
        for (let i = 0; i < ORDERS; i++) winners.push(await raceOne(i));
        const end = await eventually(async () => {
          const a = await k.account(PHONE);
          assert.equal(a.wallet.heldMinor, 0, 'no wallet hold is left');
          return a;
        });
        const walletPaid = winners.filter((w) => w === 'wallet').length;
        assert.equal(
          end.wallet.balanceMinor,
          start.wallet.balanceMinor - 2500 * walletPaid,
          'the wallet paid its wins',
        );
        assert.deepEqual(end.card, start.card, 'the card was never charged');
        await k.assertLedgerSound();
      });

      /** Races the three payments of one new order; returns what paid it. */
      async function raceOne(i: number): Promise<string> {
        const tv = await k.newTv(`race-${postgres ? 'pg' : 'sq'}-${i}`);
        const orderId = await k.order('vip-month', tv);
        const seen = (await k.inbox(PHONE)).length;
        const payUrl = (await k.payer(orderId, `+${PHONE}`, tv)).payUrl as string;
        const code = await k.latestCode(PHONE, seen);
        const res = await tv('POST', `/v1/orders/${orderId}/scan`, { rail: 'alipay' });
        assert.equal(res.status, 200, res.text);
        const wechatCashier = await openWechatPage(p, payUrl);

        const answers = await Promise.all([
          payOnScanPage(p, 'alipay', res.json().qrText as string),
          k.reply(PHONE, code).then(() => 202),
          payAtWechatCashier(p, wechatCashier),
        ]);
        for (const s of answers) assert.ok([200, 202, 303, 409].includes(s), `a racer was answered ${s}`);

        const order = await k.until(orderId, 'fulfilled', tv);
        await eventually(() => assertSettledOnce(orderId, tv), 60_000, 250);
        return order.paidWith as string;
      }

      /** One capture stands; every other payment of the order ended without money or was refunded in full. */
      async function assertSettledOnce(orderId: string, tv: Awaited<ReturnType<typeof k.newTv>>) {
        const res = await k.payAdmin('GET', `/admin/v1/payments?orderId=${orderId}`);
        assert.equal(res.status, 200, res.text);
        const payments = res.json<PaymentRow[]>();
        const kept = payments.filter((x) => x.status === 'captured');
        assert.equal(kept.length, 1, `one capture stands: ${JSON.stringify(payments)}`);
        assert.equal(kept[0]!.refundedMinor, 0);
        for (const x of payments) {
          if (x === kept[0]) continue;
          if (x.status === 'refunded')
            assert.equal(x.refundedMinor, x.amountMinor, `${x.source} capture refunded in full`);
          else assert.ok(['released', 'failed'].includes(x.status), `${x.source} payment is ${x.status}`);
        }
        const timeline = (await k.backendAdmin('GET', `/admin/v1/orders/${orderId}/timeline`)).json<
          Array<{ kind: string; summary: string }>
        >();
        const applied = timeline.filter((t) => t.kind === 'message' && t.summary === 'payment.completed applied');
        assert.equal(applied.length, 1, 'one payment.completed applied');
        const ents = (await tv('GET', '/v1/entitlements')).json() as Array<{ orderId: string }>;
        assert.equal(ents.filter((e) => e.orderId === orderId).length, 1, 'one entitlement extension');
      }
    },
  );
}

import assert from 'node:assert/strict';
import type { AccountView } from '../../src/payserver/accounts/accounts-service.ts';
import { codeIn } from './codes.ts';
import { eventually } from './eventually.ts';

/** What a request answers, whether it went through `app.inject` or over loopback HTTP. */
export interface Answer {
  status: number;
  text: string;
  json<T = any>(): T;
}

export type Caller = (method: string, path: string, body?: unknown) => Promise<Answer>;

/** Who the walks call as: the demo TV, another TV, the operator at each service, the development carrier. */
export interface Callers<C extends Caller = Caller> {
  tv: C;
  as(token: string): C;
  backendAdmin: Caller;
  payAdmin: Caller;
  carrier: Caller;
}

/**
 * What a TV, a phone and an operator do in the tests' walks, through the public API only: the one
 * kit of the service tests (in-process, `testSystem`), the end-to-end tests (real processes) and
 * the bench's set-up.
 */
export function walk<C extends Caller>(c: Callers<C>) {
  const kit = {
    ...c,
    codeIn,
    /** The account the payment server holds for a phone, as its operator reads it. */
    async account(phone: string): Promise<AccountView> {
      const res = await c.payAdmin('GET', `/admin/v1/accounts?phone=${encodeURIComponent(phone)}`);
      assert.equal(res.status, 200, res.text);
      const [a] = res.json();
      assert.ok(a, `no account for ${phone}`);
      return a;
    },
    /** A development phone's SMS, oldest first. */
    async inbox(digits: string): Promise<Array<{ id: string; from: string; to: string; text: string }>> {
      const res = await c.carrier('GET', `/dev/v1/phones/${digits}/messages`);
      assert.equal(res.status, 200, res.text);
      return res.json();
    },
    /** Waits for a new SMS (more than `seen`) and returns it. */
    async nextSms(digits: string, seen = 0) {
      return eventually(async () => {
        const inbox = await kit.inbox(digits);
        assert.ok(inbox.length > seen, `no new SMS for ${digits}`);
        return inbox[inbox.length - 1]!;
      });
    },
    /**
     * The 6-digit code in the newest SMS a phone got (after `seen` of them), as a person would read it;
     * waits while the newest is another SMS (a link SMS can arrive just before the code).
     */
    async latestCode(digits: string, seen = 0): Promise<string> {
      return eventually(async () => {
        const inbox = await kit.inbox(digits);
        assert.ok(inbox.length > seen, `no new SMS for ${digits}`);
        return codeIn(inbox[inbox.length - 1]!.text);
      });
    },
    /** The phone replies to the last SMS it got. */
    async reply(digits: string, text: string) {
      const res = await c.carrier('POST', `/dev/v1/phones/${digits}/replies`, { text });
      assert.equal(res.status, 202, res.text);
    },
    /** The payment server's ledger audit must find nothing wrong (every entry balanced, holds and balances as posted). */
    async assertLedgerSound() {
      const res = await c.payAdmin('GET', '/admin/v1/ledger/audit');
      assert.equal(res.status, 200, res.text);
      const audit = res.json();
      assert.deepEqual(audit.problems, [], 'the ledger audit found problems');
      assert.equal(audit.ok, true);
    },
    /** Provisions a TV of its own (a TV has one open order at most) and calls as it. */
    async newTv(name: string): Promise<C> {
      const res = await c.backendAdmin('POST', '/admin/v1/devices', { name, accountId: `acct-${name}` });
      assert.equal(res.status, 201, res.text);
      return c.as(res.json().token as string);
    },
    async order(productId = 'vip-year', tv: Caller = c.tv): Promise<string> {
      const res = await tv('POST', '/v1/orders', { productId });
      assert.equal(res.status, 201, res.text);
      return res.json().orderId as string;
    },
    async payer(orderId: string, phone: string, tv: Caller = c.tv) {
      const res = await tv('POST', `/v1/orders/${orderId}/payer`, { phone });
      assert.equal(res.status, 202, res.text);
      return res.json();
    },
    /** Waits until the TV sees the order in `status`, and returns the order. */
    async until(orderId: string, status: string, tv: Caller = c.tv) {
      return eventually(async () => {
        const o = (await tv('GET', `/v1/orders/${orderId}`)).json();
        assert.equal(o.status, status, `order is ${o.status} ${o.failureCode ?? ''}`);
        return o;
      });
    },
  };
  return kit;
}

export type Walk = ReturnType<typeof walk>;

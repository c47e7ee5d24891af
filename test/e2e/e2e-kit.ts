import assert from 'node:assert/strict';
import { codeIn } from '../support/codes.ts';
import { eventually } from '../support/eventually.ts';
import { clients, type Processes } from '../support/processes.ts';

/** What a TV, a phone and an operator do in the end-to-end walks, over real HTTP. */
export function e2eKit(p: Processes) {
  const c = clients(p);
  const kit = {
    ...c,
    async account(phone: string) {
      const res = await c.payAdmin('GET', `/admin/v1/accounts?phone=${encodeURIComponent(phone)}`);
      assert.equal(res.status, 200, res.text);
      const [a] = res.json();
      assert.ok(a, `no account for ${phone}`);
      return a as { accountId: string; quickPay: boolean; wallet: { balanceMinor: number; heldMinor: number }; card: { balanceMinor: number; heldMinor: number } | null };
    },
    async inbox(digits: string): Promise<Array<{ id: string; from: string; text: string }>> {
      return (await c.carrier('GET', `/dev/v1/phones/${digits}/messages`)).json();
    },
    /** Waits for a new SMS (more than `seen`) and returns it. */
    async nextSms(digits: string, seen: number) {
      return eventually(async () => {
        const inbox = await kit.inbox(digits);
        assert.ok(inbox.length > seen, `no new SMS for ${digits}`);
        return inbox[inbox.length - 1]!;
      });
    },
    codeIn,
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
    async newTv(name: string) {
      const res = await c.backendAdmin('POST', '/admin/v1/devices', { name, accountId: `acct-${name}` });
      assert.equal(res.status, 201, res.text);
      return c.as(res.json().token as string);
    },
    async order(productId = 'vip-year') {
      const res = await c.tv('POST', '/v1/orders', { productId });
      assert.equal(res.status, 201, res.text);
      return res.json().orderId as string;
    },
    async payer(orderId: string, phone: string) {
      const res = await c.tv('POST', `/v1/orders/${orderId}/payer`, { phone });
      assert.equal(res.status, 202, res.text);
      return res.json();
    },
    async until(orderId: string, status: string) {
      return eventually(async () => {
        const o = (await c.tv('GET', `/v1/orders/${orderId}`)).json();
        assert.equal(o.status, status, `order is ${o.status} ${o.failureCode ?? ''}`);
        return o;
      });
    },
    /** Submits a form on the phone checkout page, as a browser without JavaScript would. */
    async form(url: string, fields: Record<string, string>) {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
      return { status: res.status, html: await res.text() };
    },
  };
  return kit;
}

/** Reads an order's event stream until it closes or `until` says stop; returns the statuses seen. */
export async function watchEvents(url: string, token: string): Promise<{ statuses: string[]; done: Promise<string[]> }> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
  const statuses: string[] = [];
  const done = (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let i: number;
      while ((i = buffer.indexOf('\n\n')) >= 0) {
        const event = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        const data = /^data: (.*)$/m.exec(event);
        if (data) statuses.push(JSON.parse(data[1]!).status);
      }
    }
    return statuses;
  })();
  return { statuses, done };
}

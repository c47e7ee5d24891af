import assert from 'node:assert/strict';
import { clients, type Processes } from '../support/processes.ts';
import { eventually } from '../support/eventually.ts';
import { walk, type Caller } from '../support/walk.ts';

/** The walks' kit (test/support/walk.ts) over real HTTP to the processes. */
export const e2eKit = (p: Processes) => walk(clients(p));
type Kit = ReturnType<typeof e2eKit>;

/**
 * A vip-month order of the demo TV whose bound phone (`digits`, typed on the TV as `typed`) has been sent its
 * code, so its price is held: the phone's account before, the order, and the code.
 */
export async function orderHeldForCode(k: Kit, digits: string, typed: string) {
  const before = await k.account(digits);
  const seen = (await k.inbox(digits)).length;
  const orderId = await k.order('vip-month');
  await k.payer(orderId, typed);
  const code = k.codeIn((await k.nextSms(digits, seen)).text);
  return { before, orderId, code };
}

/** A new TV's monthly subscription, bought by a bound phone's code reply: the TV and its subscription. */
export async function subscribedTv(k: Kit, tvName: string, digits: string) {
  const tv = await k.newTv(tvName);
  const orderId = (await tv('POST', '/v1/orders', { productId: 'uhd-monthly' })).json().orderId as string;
  const seen = (await k.inbox(digits)).length;
  assert.equal((await tv('POST', `/v1/orders/${orderId}/payer`, { phone: digits })).status, 202);
  await k.reply(digits, k.codeIn((await k.nextSms(digits, seen)).text));
  const [sub] = await eventually(async () => {
    const list = (await tv('GET', '/v1/subscriptions')).json();
    assert.equal(list.length, 1);
    return list;
  }, 15_000);
  return { tv, sub };
}

/** Waits until the TV's subscription has a period end other than `periodEnd`: it was renewed. */
export const untilRenewed = (tv: Caller, periodEnd: string, timeoutMs: number) =>
  eventually(
    async () =>
      assert.notEqual((await tv('GET', '/v1/subscriptions')).json()[0].currentPeriodEnd, periodEnd, 'renewed'),
    timeoutMs,
    200,
  );

/** Reads an order's event stream until it closes or `until` says stop; returns the statuses seen. */
export async function watchEvents(
  url: string,
  token: string,
): Promise<{ statuses: string[]; done: Promise<string[]> }> {
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

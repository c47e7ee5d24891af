import http from 'node:http';
import { readFileSync } from 'node:fs';
import { benchPhones } from './checkout-load.ts';
import { percentile } from './stats.ts';

interface Tvpay {
  urls: { backend: string; payserver: string; carrier: string };
  device: string;
  admin: string;
  pid: number;
}

const rssMb = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

/**
 * Holds `total` TV event streams open on one back-end, spread over `orders`
 * orders, then completes those payments and measures, per stream, the delay
 * from the order's fulfilment (server time) to its event at the TV.
 */
export async function streamsBench(t: Tvpay, total: number, orders: number) {
  const tvs = await benchPhones(t, orders, 5000);
  const ids: string[] = [];
  const deviceOf = new Map<string, string>();
  for (const { phone, device } of tvs) {
    const tv = { authorization: `Bearer ${device}`, 'content-type': 'application/json' };
    const o = await (
      await fetch(`${t.urls.backend}/v1/orders`, { method: 'POST', headers: tv, body: '{"productId":"kids-app"}' })
    ).json();
    await (
      await fetch(`${t.urls.backend}/v1/orders/${o.orderId}/payer`, {
        method: 'POST',
        headers: tv,
        body: JSON.stringify({ phone }),
      })
    ).text();
    ids.push(o.orderId);
    deviceOf.set(o.orderId, device);
  }
  const rssBefore = rssMb(t.pid);
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  const delays: number[] = [];
  let open = 0;
  let failed = 0;
  const requests: http.ClientRequest[] = [];
  const done = new Promise<void>((resolveAll) => {
    let finished = 0;
    const finish = () => {
      if (++finished === total) resolveAll();
    };
    for (let i = 0; i < total; i++) {
      const orderId = ids[i % ids.length]!;
      const req = http.get(
        `${t.urls.backend}/v1/orders/${orderId}/events`,
        { agent, headers: { authorization: `Bearer ${deviceOf.get(orderId)}` } },
        (res) => {
          open++;
          let buffer = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            buffer += chunk;
            const m = /"status":"fulfilled".*?"fulfilledAt":"([^"]+)"/.exec(buffer);
            if (m) {
              delays.push(Date.now() - Date.parse(m[1]!));
              buffer = '';
            }
          });
          res.on('end', finish);
          res.on('error', finish);
        },
      );
      req.on('error', () => {
        failed++;
        finish();
      });
      requests.push(req);
    }
  });
  for (let i = 0; i < 600 && open + failed < total; i++) await new Promise((r) => setTimeout(r, 100));
  const rssOpen = rssMb(t.pid);
  for (const { phone } of tvs) {
    const inbox = await (await fetch(`${t.urls.carrier}/dev/v1/phones/86${phone}/messages`)).json();
    const code = /(\d{6})/.exec(inbox[inbox.length - 1].text)?.[1];
    await fetch(`${t.urls.carrier}/dev/v1/phones/86${phone}/replies`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: code }),
    });
  }
  await Promise.race([done, new Promise((r) => setTimeout(r, 60_000))]);
  for (const req of requests) req.destroy();
  return {
    streams: open,
    failed,
    rssMb: rssOpen,
    rssIdleMb: rssBefore,
    p50Ms: percentile(delays, 50),
    p99Ms: percentile(delays, 99),
    events: delays.length,
  };
}

import { percentile } from './stats.ts';

interface Tvpay {
  urls: { backend: string; payserver: string; carrier: string };
  device: string;
  admin: string;
}

/** Timings of one run of complete bound-phone checkouts. */
export interface CheckoutRun {
  completed: number;
  failed: number;
  /** Why the failed ones failed: the first 80 characters of each error, counted (a bench hides no failure). */
  failures: Record<string, number>;
  seconds: number;
  perCheckoutMs: number[];
  perCallMs: number[];
  /** The same calls by kind: `create` (POST /v1/orders), `payer` (POST …/payer), `reply` (the phone's SMS reply). */
  byCall: Record<string, number[]>;
}

async function timed<T>(
  run: Pick<CheckoutRun, 'perCallMs' | 'byCall'>,
  kind: string,
  fn: () => Promise<T>,
): Promise<T> {
  const t = performance.now();
  try {
    return await fn();
  } finally {
    const ms = performance.now() - t;
    run.perCallMs.push(ms);
    (run.byCall[kind] ??= []).push(ms);
  }
}

async function json(res: Response) {
  const text = await res.text();
  if (!res.ok) throw new Error(`${res.status} ${text.slice(0, 200)}`);
  return text ? JSON.parse(text) : null;
}

/** A virtual TV: its own device (a TV has one open order at most) and its viewer's phone. */
export interface BenchTv {
  phone: string;
  device: string;
  /** The newest SMS its phone has read: the next read asks only for what came after it. */
  lastMessageId?: string;
}

/** Provisions one TV and opens one bound wallet per virtual TV, so every TV's newest SMS is its own code. */
export async function benchPhones(t: Tvpay, n: number, offset = 0): Promise<BenchTv[]> {
  const tvs: BenchTv[] = [];
  const admin = { authorization: `Bearer ${t.admin}`, 'content-type': 'application/json' };
  for (let i = 0; i < n; i++) {
    const phone = `1390${String(offset + i).padStart(7, '0')}`;
    await fetch(`${t.urls.payserver}/admin/v1/accounts`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ phone, currency: 'CNY', walletMinor: 100_000_000, quickPay: true }),
    }).then(json);
    const { token } = await fetch(`${t.urls.backend}/admin/v1/devices`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ name: `bench ${offset + i}`, accountId: `bench-${offset + i}` }),
    }).then(json);
    tvs.push({ phone, device: token });
  }
  return tvs;
}

/** One checkout as a TV and its phone do it: order → payer → read the code SMS → reply → `fulfilled` on the event stream. */
export async function checkout(
  t: Pick<Tvpay, 'urls'>,
  bench: BenchTv,
  calls: Pick<CheckoutRun, 'perCallMs' | 'byCall'>,
): Promise<void> {
  const { phone, device } = bench;
  const tv = { authorization: `Bearer ${device}`, 'content-type': 'application/json' };
  const digits = `86${phone}`;
  /**
   * The SMS the phone has not read yet (as a phone syncs: after the newest it has), marked read; with `waitMs`,
   * the carrier holds the request until one arrives or the time passes, as a phone is pushed its SMS.
   */
  const unread = async (waitMs = 0) => {
    const query = new URLSearchParams();
    if (bench.lastMessageId) query.set('after', bench.lastMessageId);
    if (waitMs > 0) query.set('waitMs', String(Math.ceil(waitMs)));
    const url = `${t.urls.carrier}/dev/v1/phones/${digits}/messages${query.size ? `?${query}` : ''}`;
    const messages = (await json(await fetch(url))) as Array<{ id: string; text: string }>;
    bench.lastMessageId = messages.at(-1)?.id ?? bench.lastMessageId;
    return messages;
  };
  await unread(); // what came since this TV's last checkout (its receipt): the code is what comes next
  const order = await timed(calls, 'create', async () =>
    json(await fetch(`${t.urls.backend}/v1/orders`, { method: 'POST', headers: tv, body: '{"productId":"kids-app"}' })),
  );
  await timed(calls, 'payer', async () =>
    json(
      await fetch(`${t.urls.backend}/v1/orders/${order.orderId}/payer`, {
        method: 'POST',
        headers: tv,
        body: JSON.stringify({ phone }),
      }),
    ),
  );
  // The TV watches its order's event stream, as the TV app does (no polling of the order).
  const stream = await fetch(`${t.urls.backend}/v1/orders/${order.orderId}/events`, {
    headers: { authorization: `Bearer ${device}` },
  });
  const fulfilled = (async () => {
    const decoder = new TextDecoder();
    let seenText = '';
    for await (const chunk of stream.body as unknown as AsyncIterable<Uint8Array>) {
      seenText += decoder.decode(chunk, { stream: true });
      if (seenText.includes('"status":"fulfilled"')) return;
      if (/"status":"(failed|expired|cancelled)"/.test(seenText)) throw new Error('order failed');
    }
    throw new Error('stream closed before fulfilment');
  })();
  // Observed at once: a checkout that fails before it waits for the stream (no code SMS) is one failed checkout,
  // counted by its loop, not an unhandled rejection that ends the whole bench.
  fulfilled.catch(() => undefined);
  // The phone waits for its code SMS in long polls of up to 5 s each, 10 s in all (the limit that 500 polls 20 ms
  // apart used to set).
  let code: string | undefined;
  const giveUpAt = performance.now() + 10_000;
  for (let left = 10_000; left > 0 && !code; left = giveUpAt - performance.now()) {
    const messages = await unread(Math.min(5000, left));
    if (messages.length > 0) code = /(\d{6})/.exec(messages[messages.length - 1]!.text)?.[1];
  }
  if (!code) throw new Error('no code SMS');
  await timed(calls, 'reply', async () =>
    json(
      await fetch(`${t.urls.carrier}/dev/v1/phones/${digits}/replies`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: code }),
      }),
    ),
  );
  await Promise.race([
    fulfilled,
    new Promise((_, reject) => setTimeout(() => reject(new Error('not fulfilled in time')), 20_000)),
  ]);
}

/** A run with nothing counted yet. */
const emptyRun = (seconds: number): CheckoutRun => ({
  completed: 0,
  failed: 0,
  failures: {},
  seconds,
  perCheckoutMs: [],
  perCallMs: [],
  byCall: {},
});

/** Counts a failed checkout and why it failed. */
function failedWith(run: CheckoutRun, err: unknown): void {
  run.failed++;
  const why = (err instanceof Error ? err.message : String(err)).slice(0, 80);
  run.failures[why] = (run.failures[why] ?? 0) + 1;
}

/** Closed loop: every virtual TV runs checkouts back to back for `seconds`. */
export async function closedLoop(t: Pick<Tvpay, 'urls'>, phones: BenchTv[], seconds: number): Promise<CheckoutRun> {
  const run = emptyRun(seconds);
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    phones.map(async (phone) => {
      while (performance.now() < end) {
        const start = performance.now();
        try {
          await checkout(t, phone, run);
          run.completed++;
          run.perCheckoutMs.push(performance.now() - start);
        } catch (err) {
          failedWith(run, err);
        }
      }
    }),
  );
  return run;
}

/** Open loop: checkouts start at a fixed rate whatever happens to the earlier ones. */
export async function openLoop(t: Tvpay, phones: BenchTv[], perSecond: number, seconds: number): Promise<CheckoutRun> {
  const run = emptyRun(seconds);
  const total = Math.max(1, Math.round(perSecond * seconds));
  const busy = new Set<BenchTv>();
  const jobs: Promise<void>[] = [];
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const phone = phones.find((p) => !busy.has(p));
    if (!phone) {
      failedWith(run, new Error('no virtual TV free to start it'));
      continue;
    }
    busy.add(phone);
    const began = performance.now();
    jobs.push(
      checkout(t, phone, run)
        .then(
          () => {
            run.completed++;
            run.perCheckoutMs.push(performance.now() - began);
          },
          (err: unknown) => failedWith(run, err),
        )
        .finally(() => busy.delete(phone)),
    );
  }
  await Promise.all(jobs);
  return run;
}

export const summary = (r: CheckoutRun) => ({
  perSec: r.completed / r.seconds,
  failed: r.failed,
  ...(r.failed > 0 ? { failures: r.failures } : {}),
  callP50: percentile(r.perCallMs, 50),
  callP99: percentile(r.perCallMs, 99),
  checkoutP50: percentile(r.perCheckoutMs, 50),
  checkoutP99: percentile(r.perCheckoutMs, 99),
  callP99ByKind: Object.fromEntries(
    Object.entries(r.byCall).map(([kind, ms]) => [kind, Math.round(percentile(ms, 99) * 10) / 10]),
  ),
});

import autocannon from 'autocannon';
import { sql } from 'kysely';
import { join } from 'node:path';
import { freshServiceDatabases } from '../../test/support/pg.ts';
import { startProcesses } from '../../test/support/processes.ts';
import { analyze, benchStore, copyRows, type CopyWords } from './seed-copies.ts';
import { benchPhones, checkout } from './checkout-load.ts';
import { serverNodeArgs } from './processes.ts';
import { round } from './stats.ts';

const DAY_MS = 86_400_000;

/**
 * A million orders: one real checkout is made through the API, then copied a million times into
 * the stores while the services are stopped (orders and two timeline entries each at the
 * back-end; the checkout and the captured payment at the payment server), spread over the last
 * 30 days on 100,000 phones. The copies are what the real one wrote, with their own ids, phones
 * and times, so the indexes and the queries see what they would in use. Either store (seed-copies.ts).
 */
async function seed(stores: { backend: string; payserver: string }, n: number, templateOrderId: string, now: number) {
  const span = 30 * DAY_MS;
  // i-th copy: created i × (30 days / n) before now; its phone one of 100,000.
  const at = (w: CopyWords, offsetMs = 0) => w.iso(`${now} - i * 1.0 * ${span / n} + ${offsetMs}`);
  const phone = (w: CopyWords) => `'+86139' || ${w.pad('i % 100000', 8)}`;
  const orderId = (w: CopyWords) => `'ord_m' || ${w.pad('i', 7)}`;

  const backend = benchStore(stores.backend);
  try {
    await copyRows(backend, n, 'orders', sql`id = ${templateOrderId}`, (w) => ({
      id: orderId(w),
      payer_phone: phone(w),
      link_token_sealed: `''`,
      payment_id: `'pay_m' || i`,
      created_at: at(w),
      expires_at: at(w, 900_000),
      paid_at: at(w, 5_000),
      fulfilled_at: at(w, 6_000),
    }));
    for (const [summary, offset] of [
      ['paid', 5_000],
      ['fulfilled', 6_000],
    ] as const) {
      await copyRows(backend, n, 'order_timeline', sql`order_id = ${templateOrderId}`, (w) => ({
        id: `'tl_m' || i || '${summary}'`,
        order_id: orderId(w),
        at: at(w, offset),
        kind: `'status'`,
        summary: `'${summary}'`,
        detail: 'NULL',
      }));
    }
    await analyze(backend, ['orders', 'order_timeline']);
  } finally {
    await backend.close();
  }

  const pay = benchStore(stores.payserver);
  try {
    await copyRows(pay, n, 'checkouts', sql`order_id = ${templateOrderId}`, (w) => ({
      order_id: orderId(w),
      phone: phone(w),
      link_token_hash: `'lth_m' || i`,
      paid_payment_id: `'pay_m' || i`,
      created_at: at(w),
      expires_at: at(w, 900_000),
    }));
    await copyRows(pay, n, 'payments', sql`order_id = ${templateOrderId} AND status = 'captured'`, (w) => ({
      id: `'pay_m' || i`,
      order_id: orderId(w),
      phone: phone(w),
      created_at: at(w, 1_000),
      completed_at: at(w, 5_000),
    }));
    await analyze(pay, ['checkouts', 'payments']);
  } finally {
    await pay.close();
  }
}

async function p99(
  url: string,
  headers: Record<string, string>,
  paths: () => string,
  seconds: number,
): Promise<number> {
  // As long again of the same load first, not counted: the services were just restarted on the store the
  // seeding wrote, and in their first seconds (compiling the code, filling the caches) the first figure
  // measured after a one-second warm-up gave a p99 of 119 ms against 44–58 ms a minute later (BENCHMARKS.md).
  await autocannon({
    url,
    headers,
    connections: 8,
    duration: seconds,
    requests: [{ setupRequest: (req) => ({ ...req, path: paths() }) }],
  });
  const r = await autocannon({
    url,
    headers,
    connections: 8,
    duration: seconds,
    requests: [{ setupRequest: (req) => ({ ...req, path: paths() }) }],
  });
  if (r.non2xx > 0) throw new Error(`${r.non2xx} answers were not 2xx at ${url}`);
  return r.latency.p99;
}

/**
 * `console-scale`: the operator's reads with a million orders and their payments in the stores; with
 * `onPg`, both stores on fresh PostgreSQL databases.
 */
export async function consoleScale(n: number, seconds: number, onPg = false) {
  const dbs = onPg ? await freshServiceDatabases() : undefined;
  const p = await startProcesses(
    { TVPAY_LOG_LEVEL: 'warn', ...dbs?.env },
    { together: true, nodeArgs: serverNodeArgs() },
  );
  const stores = {
    backend: dbs?.env.TVPAY_BACKEND_DATABASE_URL ?? join(p.dir, 'backend.db'),
    payserver: dbs?.env.TVPAY_PAYSERVER_DATABASE_URL ?? join(p.dir, 'payserver.db'),
  };
  try {
    const t = { urls: p.urls, device: p.deviceToken, admin: p.secrets.adminToken };
    const [tv] = await benchPhones(t, 1);
    await checkout(t, tv!, { perCallMs: [], byCall: {} });
    const admin = { authorization: `Bearer ${p.secrets.adminToken}` };
    const [template] = (
      await (await fetch(`${p.urls.backend}/admin/v1/orders?limit=1&status=fulfilled`, { headers: admin })).json()
    ).items;
    await p.stopOne('all#0', 'SIGTERM');
    const now = Date.now();
    const t0 = performance.now();
    await seed(stores, n, template.orderId, now);
    const seedSeconds = (performance.now() - t0) / 1000;
    await p.startTogether();

    const random = (k: number) => Math.floor(Math.random() * k) + 1;
    const someone = () => `86139${String(random(100_000) - 1).padStart(8, '0')}`;
    const signIn = await fetch(`${p.urls.backend}/console/sign-in`, {
      method: 'POST',
      // As a browser on the console's own page sends it (the console refuses forms from elsewhere).
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
      body: `token=${encodeURIComponent(p.secrets.adminToken)}`,
      redirect: 'manual',
    });
    if (!signIn.headers.getSetCookie()[0]) throw new Error(`console sign-in: ${signIn.status} ${await signIn.text()}`);
    const cookie = signIn.headers.getSetCookie()[0]!.split(';')[0]!;
    const consoleOrdersP99Ms = await p99(p.urls.backend, { cookie }, () => `/console/orders?q=${someone()}`, seconds);
    const adminSearchP99Ms = await p99(
      p.urls.backend,
      admin,
      () => `/admin/v1/orders?phone=${someone()}&limit=25`,
      seconds,
    );
    const timelineP99Ms = await p99(
      p.urls.backend,
      admin,
      () => `/admin/v1/orders/ord_m${String(random(n)).padStart(7, '0')}/timeline`,
      seconds,
    );

    const day = new Date(now - 10 * DAY_MS).toISOString().slice(0, 10);
    let t1 = performance.now();
    const statement = await fetch(`${p.urls.payserver}/admin/v1/statements/${day}?format=json`, { headers: admin });
    const rows = ((await statement.json()) as unknown[]).length;
    const statementSeconds = (performance.now() - t1) / 1000;
    t1 = performance.now();
    const rec = await fetch(`${p.urls.backend}/admin/v1/reconciliations`, {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ date: day }),
    });
    const report = (await rec.json()) as { matched: number; mismatches: unknown[] };
    const reconciliationSeconds = (performance.now() - t1) / 1000;
    // What a Prometheus scrape of each service costs with the million in the stores (the business gauges count by status).
    const scrapeMs = async (url: string) => {
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        const t2 = performance.now();
        const res = await fetch(`${url}/metrics`, { headers: admin });
        await res.text();
        if (!res.ok) throw new Error(`metrics: ${res.status}`);
        times.push(performance.now() - t2);
      }
      return round(Math.max(...times));
    };
    const backendScrapeMs = await scrapeMs(p.urls.backend);
    const payserverScrapeMs = await scrapeMs(p.urls.payserver);
    return {
      store: onPg ? 'postgres' : 'sqlite',
      orders: n,
      backendScrapeMs,
      payserverScrapeMs,
      seedSeconds: round(seedSeconds),
      adminSearchP99Ms: round(adminSearchP99Ms),
      timelineP99Ms: round(timelineP99Ms),
      consoleOrdersP99Ms: round(consoleOrdersP99Ms),
      statementSeconds: round(statementSeconds, 3),
      statementRows: rows,
      reconciliationSeconds: round(reconciliationSeconds, 3),
      reconciliationMatched: report.matched,
      reconciliationMismatches: report.mismatches.length,
    };
  } finally {
    await p.close();
    await dbs?.drop();
  }
}

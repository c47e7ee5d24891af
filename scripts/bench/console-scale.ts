import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { startProcesses } from '../../test/support/processes.ts';
import { benchPhones, checkout } from './checkout-load.ts';
import { serverNodeArgs } from './processes.ts';
import { round } from './stats.ts';

const DAY_MS = 86_400_000;

/**
 * A million orders: one real checkout is made through the API, then copied a million times into
 * the stores while the services are stopped (orders and two timeline entries each at the
 * back-end; the checkout and the captured payment at the payment server), spread over the last
 * 30 days on 100,000 phones. The copies are what the real one wrote, with their own ids, phones
 * and times, so the indexes and the queries see what they would in use.
 */
function seed(dir: string, n: number, templateOrderId: string, now: number): void {
  const span = 30 * DAY_MS;
  const fill = (
    db: Database.Database,
    table: string,
    where: string,
    overrides: Record<string, string>,
    idArg: string,
  ) => {
    const cols = (db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).map((c) => c.name);
    const exprs = cols.map((c) => overrides[c] ?? `t.${c}`);
    db.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${n})
       INSERT INTO ${table} (${cols.join(', ')}) SELECT ${exprs.join(', ')} FROM n, (SELECT * FROM ${table} WHERE ${where} LIMIT 1) t`,
    ).run(idArg);
  };
  // i-th copy: created i × (30 days / n) before now; its phone one of 100,000.
  const at = (offsetMs = 0) =>
    `strftime('%Y-%m-%dT%H:%M:%fZ', (${now} - i * ${span / n} + ${offsetMs}) / 1000.0, 'unixepoch')`;
  const phone = `'+86139' || printf('%08d', i % 100000)`;
  const orderId = `'ord_m' || printf('%07d', i)`;

  const backend = new Database(join(dir, 'backend.db'));
  backend.pragma('journal_mode = WAL');
  backend.transaction(() => {
    fill(
      backend,
      'orders',
      'id = ?',
      {
        id: orderId,
        payer_phone: phone,
        link_token_sealed: `''`,
        payment_id: `'pay_m' || i`,
        created_at: at(),
        expires_at: at(900_000),
        paid_at: at(5_000),
        fulfilled_at: at(6_000),
      },
      templateOrderId,
    );
    for (const [kind, summary, offset] of [
      ['status', 'paid', 5_000],
      ['status', 'fulfilled', 6_000],
    ] as const) {
      fill(
        backend,
        'order_timeline',
        'order_id = ?',
        {
          id: `'tl_m' || i || '${summary}'`,
          order_id: orderId,
          at: at(offset),
          kind: `'${kind}'`,
          summary: `'${summary}'`,
          detail: 'NULL',
        },
        templateOrderId,
      );
    }
  })();
  backend.close();

  const pay = new Database(join(dir, 'payserver.db'));
  pay.pragma('journal_mode = WAL');
  pay.transaction(() => {
    fill(
      pay,
      'checkouts',
      'order_id = ?',
      {
        order_id: orderId,
        phone,
        link_token_hash: `'lth_m' || i`,
        paid_payment_id: `'pay_m' || i`,
        created_at: at(),
        expires_at: at(900_000),
      },
      templateOrderId,
    );
    fill(
      pay,
      'payments',
      "order_id = ? AND status = 'captured'",
      { id: `'pay_m' || i`, order_id: orderId, phone, created_at: at(1_000), completed_at: at(5_000) },
      templateOrderId,
    );
  })();
  pay.close();
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

/** `console-scale`: the operator's reads with a million orders and their payments in the stores. */
export async function consoleScale(n: number, seconds: number) {
  const p = await startProcesses({ TVPAY_LOG_LEVEL: 'warn' }, { together: true, nodeArgs: serverNodeArgs() });
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
    seed(p.dir, n, template.orderId, now);
    const seedSeconds = (performance.now() - t0) / 1000;
    await p.startTogether();

    const random = (k: number) => Math.floor(Math.random() * k) + 1;
    const someone = () => `86139${String(random(100_000) - 1).padStart(8, '0')}`;
    const signIn = await fetch(`${p.urls.backend}/console/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${encodeURIComponent(p.secrets.adminToken)}`,
      redirect: 'manual',
    });
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
  }
}

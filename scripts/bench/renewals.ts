import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import http from 'node:http';
import { join } from 'node:path';
import { eventually } from '../../test/support/eventually.ts';
import { startProcesses } from '../../test/support/processes.ts';
import { serverNodeArgs, UNLIMITED } from './processes.ts';
import { round } from './stats.ts';

const PAYERS = 1000;
const WALLET_MINOR = 100_000_000;

/**
 * Renewal day (`renewals`): `n` subscriptions fall due at the same moment.
 * One real renewing purchase is made through the API (a code SMS and its
 * reply); its subscription is then copied `n` times into the back-end's store
 * while the services are stopped (each with its own id, account and payer,
 * one of 1,000 bound wallets made through the payment server's admin API, its
 * notice already sent), all due at once. With a webhook receiver registered
 * for every event, the test clock is moved past the due time and the bench
 * waits until every renewal order is fulfilled, its receipt SMS queued and its
 * webhooks delivered, while TVs keep calling the API at a steady rate.
 */
export async function renewalsBench(n: number, split: boolean) {
  const hooks = await webhookReceiver();
  const p = await startProcesses(
    { ...UNLIMITED, TVPAY_LOG_LEVEL: 'warn', TVPAY_TEST_CLOCK: '1' },
    { together: !split, nodeArgs: serverNodeArgs() },
  );
  try {
    const admin = { authorization: `Bearer ${p.secrets.adminToken}`, 'content-type': 'application/json' };
    const call = async (
      base: string,
      method: string,
      path: string,
      body?: unknown,
      headers: Record<string, string> = admin,
    ) => {
      const res = await fetch(`${base}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 200)}`);
      return text ? JSON.parse(text) : null;
    };
    const phones = Array.from({ length: PAYERS }, (_, i) => `1391${String(i).padStart(7, '0')}`);
    for (const phone of phones)
      await call(p.urls.payserver, 'POST', '/admin/v1/accounts', {
        phone,
        currency: 'CNY',
        walletMinor: WALLET_MINOR,
        quickPay: true,
      });
    const tv = { authorization: `Bearer ${p.deviceToken}`, 'content-type': 'application/json' };
    const { orderId } = await call(p.urls.backend, 'POST', '/v1/orders', { productId: 'uhd-monthly' }, tv);
    const digits = `86${phones[0]}`;
    const seen = (await call(p.urls.carrier, 'GET', `/dev/v1/phones/${digits}/messages`)).length;
    await call(p.urls.backend, 'POST', `/v1/orders/${orderId}/payer`, { phone: phones[0] }, tv);
    const code = await eventually(async () => {
      const inbox = await call(p.urls.carrier, 'GET', `/dev/v1/phones/${digits}/messages`);
      const found = inbox.length > seen ? /(\d{6})/.exec(inbox[inbox.length - 1].text)?.[1] : undefined;
      if (!found) throw new Error('no code SMS yet');
      return found;
    });
    await call(p.urls.carrier, 'POST', `/dev/v1/phones/${digits}/replies`, { text: code });
    const [template] = await eventually(async () => {
      const subs = await call(p.urls.backend, 'GET', '/v1/subscriptions', undefined, tv);
      if (subs.length !== 1) throw new Error('no subscription yet');
      return subs;
    });
    await call(p.urls.backend, 'POST', '/admin/v1/webhooks', { url: hooks.url, events: ['*'] });

    if (split) await p.stop('backend');
    else await p.stopOne('all#0', 'SIGTERM');
    const due = Date.parse(template.currentPeriodEnd);
    const t0 = performance.now();
    seed(p.dir, n, template.subscriptionId, phones);
    const seedSeconds = (performance.now() - t0) / 1000;
    if (split) await p.start('backend');
    else await p.startTogether();

    // TVs at a steady 50 calls a second (the catalogue and an order's status) while the renewals run.
    let tvLoad!: autocannon.Instance;
    const tvResult = new Promise<autocannon.Result>((resolve, reject) => {
      tvLoad = autocannon(
        {
          url: p.urls.backend,
          headers: { authorization: `Bearer ${p.deviceToken}` },
          connections: 4,
          overallRate: 50,
          duration: 3600,
          requests: [{ path: '/v1/products' }, { path: `/v1/orders/${orderId}` }],
        },
        (err, result) => (err ? reject(err) : resolve(result)),
      );
    });
    const delivered0 = hooks.received();
    const started = performance.now();
    // The moment they are all due: move the process's clock past the period's end.
    const ahead = Math.ceil((due - Date.now()) / 1000) + 60;
    // One clock per process: with the services apart, each one's is moved by the same amount.
    for (const base of split ? [p.urls.payserver, p.urls.backend] : [p.urls.backend])
      await call(base, 'POST', '/admin/v1/test-clock', { advanceSeconds: ahead });
    // Progress is read from the store files by a reader of this process (WAL readers never hold up
    // the writer): scraping /metrics every second would count whole tables in the services' own loops.
    const backendDb = new Database(join(p.dir, 'backend.db'), { readonly: true });
    const payserverDb = new Database(join(p.dir, 'payserver.db'), { readonly: true });
    const count = (db: Database.Database, sql: string) => (db.prepare(sql).get() as { n: number }).n;
    let chargedSeconds = NaN;
    let fulfilled = 0;
    try {
      for (;;) {
        await new Promise((r) => setTimeout(r, 1000));
        fulfilled = count(
          backendDb,
          "SELECT count(*) AS n FROM orders WHERE channel = 'renewal' AND status = 'fulfilled'",
        );
        const failed = count(
          backendDb,
          "SELECT count(*) AS n FROM orders WHERE channel = 'renewal' AND status IN ('failed', 'expired')",
        );
        if (failed > 0) throw new Error(`${failed} renewals failed`);
        if (Number.isNaN(chargedSeconds) && fulfilled >= n) chargedSeconds = (performance.now() - started) / 1000;
        const backlog = () =>
          count(backendDb, "SELECT count(*) AS n FROM outbox WHERE status = 'pending'") +
          count(payserverDb, "SELECT count(*) AS n FROM outbox WHERE status = 'pending'");
        if (!Number.isNaN(chargedSeconds) && backlog() === 0) break;
        // Past 30 minutes the figure is "not within 30 minutes": reported as such, not waited for.
        if ((performance.now() - started) / 1000 > 1800) break;
      }
    } finally {
      backendDb.close();
    }
    const gaveUp = Number.isNaN(chargedSeconds) || (performance.now() - started) / 1000 > 1800;
    const allOutSeconds = gaveUp ? NaN : (performance.now() - started) / 1000;
    tvLoad.stop();
    const tvCalls = await tvResult;
    const charges = count(
      payserverDb,
      "SELECT count(*) AS n FROM payments WHERE method = 'renewal' AND status = 'captured'",
    );
    payserverDb.close();
    return {
      processes: split ? 'one per service' : 'one for all three',
      subscriptions: n,
      payers: PAYERS,
      seedSeconds: round(seedSeconds),
      renewalsFulfilled: fulfilled,
      renewalsSeconds: round(chargedSeconds),
      receiptsAndWebhooksOutSeconds: round(allOutSeconds),
      renewalsPerSec: round(n / chargedSeconds),
      renewalCharges: charges,
      webhookDeliveries: hooks.received() - delivered0,
      renewalApiP99Ms: tvCalls.latency.p99,
      renewalApiCalls: tvCalls.requests.total,
      renewalApiNon2xx: tvCalls.non2xx,
    };
  } finally {
    await p.close();
    hooks.close();
  }
}

/** Copies the real subscription `n` times, all due at its period's end, their notices sent. */
function seed(dir: string, n: number, templateId: string, phones: string[]): void {
  const db = new Database(join(dir, 'backend.db'));
  db.pragma('journal_mode = WAL');
  const cols = (db.prepare('PRAGMA table_info(subscriptions)').all() as Array<{ name: string }>).map((c) => c.name);
  db.exec('CREATE TEMP TABLE bench_payers (k INTEGER PRIMARY KEY, phone TEXT NOT NULL)');
  const payer = db.prepare('INSERT INTO bench_payers VALUES (?, ?)');
  phones.forEach((phone, k) => payer.run(k, `+86${phone}`));
  const overrides: Record<string, string> = {
    id: `'sub_r' || printf('%07d', i)`,
    account_id: `'acct_r' || printf('%07d', i)`,
    payer_phone: `(SELECT phone FROM bench_payers WHERE k = i % ${phones.length})`,
    noticed_for: 't.current_period_end',
    next_charge_at: 't.current_period_end',
  };
  db.transaction(() => {
    db.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${n})
       INSERT INTO subscriptions (${cols.join(', ')}) SELECT ${cols.map((c) => overrides[c] ?? `t.${c}`).join(', ')} FROM n, (SELECT * FROM subscriptions WHERE id = ?) t`,
    ).run(templateId);
    // The real one is due with its copies.
    db.prepare('UPDATE subscriptions SET noticed_for = current_period_end WHERE id = ?').run(templateId);
  })();
  db.close();
}

/** A webhook receiver that answers every delivery 204 at once, and counts them. */
async function webhookReceiver() {
  let count = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      count++;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/hooks`, received: () => count, close: () => server.close() };
}

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { eventually } from '../support/eventually.ts';
import { freshServiceDatabases, pgSkip } from '../support/pg.ts';
import { startProcesses, type Processes } from '../support/processes.ts';
import { e2eKit } from './e2e-kit.ts';

const skip = await pgSkip();

/** Ends every connection the services hold to their databases, as a restart or an operator would. */
async function terminateConnections(urls: string[]): Promise<number> {
  const names = urls.map((u) => new URL(u).pathname.slice(1));
  const admin = new pg.Client({ connectionString: urls[0] });
  await admin.connect();
  try {
    const res = await admin.query(
      'select pg_terminate_backend(pid) as ended from pg_stat_activity where datname = any($1) and pid <> pg_backend_pid()',
      [names],
    );
    return res.rowCount ?? 0;
  } finally {
    await admin.end();
  }
}

interface Seen {
  status: number;
  retryAfter: string | null;
  path: string;
  text: string;
}

describe('PostgreSQL ending connections under load', { skip }, () => {
  let p: Processes;
  let k: ReturnType<typeof e2eKit>;
  let dbs: Awaited<ReturnType<typeof freshServiceDatabases>>;
  before(async () => {
    dbs = await freshServiceDatabases();
    p = await startProcesses({
      ...dbs.env,
      TVPAY_LIMIT_PAYER_PER_PHONE: '100000',
      TVPAY_LIMIT_ORDERS_PER_DEVICE: '100000',
    });
    k = e2eKit(p);
  });
  after(async () => {
    await p?.close();
    await dbs?.drop();
  });

  it('answers the requests on ended connections 503 with Retry-After, never 500, keeps running and is ready again', async () => {
    const seen: Seen[] = [];
    let running = true;
    const call = async (base: string, token: string, method: string, path: string, body?: unknown) => {
      try {
        const res = await fetch(`${base}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          // A request that hangs on a lost connection is a failure too, not a test that never ends.
          signal: AbortSignal.timeout(20_000),
        });
        seen.push({ status: res.status, retryAfter: res.headers.get('retry-after'), path, text: await res.text() });
      } catch (err) {
        seen.push({ status: 0, retryAfter: null, path, text: (err as Error).message });
      }
    };
    const tvs = await Promise.all(Array.from({ length: 6 }, (_, i) => k.newTv(`pg-loss-${i}`)));
    const tokens = await Promise.all(
      tvs.map(async (_, i) => {
        const res = await k.backendAdmin('POST', '/admin/v1/devices', {
          name: `pg-loss-load-${i}`,
          accountId: `acct-l${i}`,
        });
        return res.json().token as string;
      }),
    );
    const backend = p.instanceUrls.backend[0]!;
    const payserver = p.instanceUrls.payserver[0]!;
    const load = tokens.map(async (token) => {
      while (running) {
        await call(backend, token, 'POST', '/v1/orders', { productId: 'kids-app' });
        const last = seen.at(-1)!;
        if (last.status === 201) {
          const orderId = JSON.parse(last.text).orderId as string;
          await call(backend, token, 'GET', `/v1/orders/${orderId}`);
          await call(backend, token, 'POST', `/v1/orders/${orderId}/cancel`);
        }
        await call(backend, p.secrets.adminToken, 'GET', '/admin/v1/orders?limit=20');
        await call(payserver, p.secrets.adminToken, 'GET', '/admin/v1/accounts?phone=%2B8613800138000');
      }
    });
    const urls = [dbs.env.TVPAY_BACKEND_DATABASE_URL, dbs.env.TVPAY_PAYSERVER_DATABASE_URL];
    let ended = 0;
    // Four rounds a second apart, each ending every connection both services hold, with requests in flight.
    for (let round = 0; round < 4; round++) {
      await new Promise((r) => setTimeout(r, 1000));
      ended += await terminateConnections(urls);
    }
    await new Promise((r) => setTimeout(r, 1000));
    running = false;
    await Promise.all(load);
    assert.ok(ended > 0, 'connections were ended');

    assert.equal(p.exitCode('backend'), null, `the back-end is running:\n${p.logs.join('').slice(-3000)}`);
    assert.equal(p.exitCode('payserver'), null, `the payment server is running:\n${p.logs.join('').slice(-3000)}`);
    const failed = seen.filter((s) => s.status >= 500 || s.status === 0);
    for (const s of failed) {
      assert.equal(s.status, 503, `${s.path} answered ${s.status}: ${s.text}`);
      assert.ok(s.retryAfter, `${s.path}'s 503 says when to retry`);
    }
    const tally = new Map<number, number>();
    for (const s of seen) tally.set(s.status, (tally.get(s.status) ?? 0) + 1);
    console.log(`${ended} connections ended; answers by status: ${JSON.stringify([...tally])}`);
    assert.ok(seen.filter((s) => s.status < 300).length > 10, `load ran: ${JSON.stringify([...tally])}`);
    // Six callers always have a request in flight: some of them met an ended connection.
    assert.ok((tally.get(503) ?? 0) > 0, `requests met the ended connections: ${JSON.stringify([...tally])}`);
    for (const base of [backend, payserver])
      await eventually(async () => assert.equal((await fetch(`${base}/readyz`)).status, 200), 30_000, 200);
    const orderId = await k.order('kids-app', tvs[0]);
    assert.equal((await tvs[0]!('GET', `/v1/orders/${orderId}`)).status, 200, 'and works again');
  });
});

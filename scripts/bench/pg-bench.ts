import { readdirSync, readFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { eventually } from '../../test/support/eventually.ts';
import { freshServiceDatabases } from '../../test/support/pg.ts';
import { startProcesses } from '../../test/support/processes.ts';
import { benchPhones, closedLoop, summary } from './checkout-load.ts';
import { serverNodeArgs, UNLIMITED } from './processes.ts';
import { round } from './stats.ts';

/** The PostgreSQL the bench measures on: TVPAY_BENCH_PG_URL, else the tests' (trust auth on loopback). */
export const benchPgUrl = () =>
  process.env.TVPAY_BENCH_PG_URL ?? process.env.TVPAY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** CPU time (ms) of every `postgres` process on this machine, from /proc (the server's own work). */
function postgresCpuMs(): number {
  const tick = 1000 / 100; // USER_HZ is 100 on Linux
  let total = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'postgres') continue;
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime, stime, cutime, cstime are fields 14–17 of stat; here they are 11–14 after the comm.
      total += (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) * tick;
    } catch {
      // the process ended while we read it
    }
  }
  return total;
}

interface DbCounters {
  walLsn: string;
  transactions: number;
}

async function dbCounters(admin: pg.Client, names: string[]): Promise<DbCounters> {
  const wal = await admin.query<{ lsn: string }>('select pg_current_wal_lsn()::text as lsn');
  const tx = await admin.query<{ n: string }>(
    'select coalesce(sum(xact_commit + xact_rollback), 0)::text as n from pg_stat_database where datname = any($1)',
    [names],
  );
  return { walLsn: wal.rows[0]!.lsn, transactions: Number(tx.rows[0]!.n) };
}

/** The statements each service's processes sent so far (pg-statements.ts's last writes after this call). */
async function statementsNow(file: string, pids: number[]): Promise<Record<string, number>> {
  const seqs = new Map<number, number>();
  const read = (pid: number) => {
    const f = `${file}.${pid}`;
    return existsSync(f)
      ? (JSON.parse(readFileSync(f, 'utf8')) as { seq: number; part: string; statements: number })
      : undefined;
  };
  for (const pid of pids) seqs.set(pid, read(pid)?.seq ?? 0);
  const byPart: Record<string, number> = {};
  for (const pid of pids) {
    const d = await eventually(
      () => {
        const r = read(pid);
        if (!r || r.seq <= seqs.get(pid)!) throw new Error(`pg-bench: process ${pid} wrote no statement count`);
        return r;
      },
      5000,
      25,
    );
    byPart[d.part] = (byPart[d.part] ?? 0) + d.statements;
  }
  return byPart;
}

/**
 * `checkout` on PostgreSQL: both services on fresh databases of the bench's PostgreSQL, each service in
 * its own process (`instances` of the back-end and of the payment server behind round-robin proxies, as
 * the e2e tests run them), the same closed loop of checkouts as the SQLite figure. Per checkout: the
 * statements (each a round trip) by service, PostgreSQL's own CPU time (its processes' CPU from /proc,
 * so the machine must run no other PostgreSQL work meanwhile), the WAL bytes and the transactions.
 */
export async function pgCheckout(tvCount: number, seconds: number, instances: number) {
  const dbs = await freshServiceDatabases();
  const dir = mkdtempSync(join(tmpdir(), 'tvpay-pg-bench-'));
  const file = join(dir, 'statements.json');
  const names = [dbs.env.TVPAY_BACKEND_DATABASE_URL, dbs.env.TVPAY_PAYSERVER_DATABASE_URL].map((u) =>
    new URL(u).pathname.slice(1),
  );
  const admin = new pg.Client({ connectionString: benchPgUrl() });
  await admin.connect();
  const p = await startProcesses(
    { ...UNLIMITED, TVPAY_LOG_LEVEL: 'warn', TVPAY_BENCH_PG_COUNT_FILE: file, ...dbs.env },
    {
      instances,
      nodeArgs: [...serverNodeArgs(), '--import', 'tsx', '--import', join(import.meta.dirname, 'pg-statements.ts')],
    },
  );
  const tvpay = { urls: p.urls, device: p.deviceToken, admin: p.secrets.adminToken };
  try {
    const tvs = await benchPhones(tvpay, tvCount);
    await closedLoop(tvpay, tvs, Math.min(2, seconds)); // warm-up, not counted
    const pids = p.pids();
    const [s0, c0, cpu0] = [await statementsNow(file, pids), await dbCounters(admin, names), postgresCpuMs()];
    const run = await closedLoop(tvpay, tvs, seconds);
    const [s1, c1, cpu1] = [await statementsNow(file, pids), await dbCounters(admin, names), postgresCpuMs()];
    const walBytes = await admin.query<{ b: string }>('select pg_wal_lsn_diff($1, $2)::text as b', [
      c1.walLsn,
      c0.walLsn,
    ]);
    const n = Math.max(1, run.completed);
    const per = (x: number) => round(x / n, 2);
    const byService = Object.fromEntries(
      Object.keys(s1)
        .filter((k) => k !== 'carrier')
        .map((k) => [k, per((s1[k] ?? 0) - (s0[k] ?? 0))]),
    );
    return {
      run: summary(run),
      checkoutsPerSec: round(run.completed / run.seconds),
      statementsPerCheckoutByService: byService,
      statementsPerCheckout: round(
        Object.values(byService).reduce((a, b) => a + b, 0),
        2,
      ),
      dbCpuMsPerCheckout: round((cpu1 - cpu0) / n, 3),
      walBytesPerCheckout: round(Number(walBytes.rows[0]!.b) / n),
      transactionsPerCheckout: per(c1.transactions - c0.transactions),
    };
  } finally {
    await p.close();
    await admin.end();
    await dbs.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A TV reading its order (`GET /v1/orders/{id}`) with the back-end on PostgreSQL, 32 connections. */
export async function pgStatusRead(seconds: number) {
  const { default: autocannon } = await import('autocannon');
  const dbs = await freshServiceDatabases();
  const p = await startProcesses({ ...UNLIMITED, TVPAY_LOG_LEVEL: 'warn', ...dbs.env }, { nodeArgs: serverNodeArgs() });
  try {
    const headers = { authorization: `Bearer ${p.deviceToken}`, 'content-type': 'application/json' };
    const order = await (
      await fetch(`${p.urls.backend}/v1/orders`, { method: 'POST', headers, body: '{"productId":"kids-app"}' })
    ).json();
    const url = `${p.urls.backend}/v1/orders/${order.orderId}`;
    await autocannon({ url, headers, connections: 32, duration: 2 });
    const r = await autocannon({ url, headers, connections: 32, duration: seconds });
    return { pgStatusRead: round(r.requests.average), pgStatusReadP99Ms: r.latency.p99 };
  } finally {
    await p.close();
    await dbs.drop();
  }
}

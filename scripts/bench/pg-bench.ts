import { readFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { eventually } from '../../test/support/eventually.ts';
import { freshServiceDatabases } from '../../test/support/pg.ts';
import { startProcesses } from '../../test/support/processes.ts';
import { benchPhones, closedLoop, summary } from './checkout-load.ts';
import { serverNodeArgs, UNLIMITED } from './processes.ts';
import {
  allPostgresCpuMs,
  ownCpu,
  ownCpuSpent,
  processesCpuMs,
  roundTripFloorUs,
  sampleLockWaits,
} from './pg-server.ts';
import { round } from './stats.ts';

/** The PostgreSQL the bench measures on: TVPAY_BENCH_PG_URL, else the tests' (trust auth on loopback). */
export const benchPgUrl = () =>
  process.env.TVPAY_BENCH_PG_URL ?? process.env.TVPAY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

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

interface Counted {
  seq: number;
  part: string;
  statements: number;
  roundTrips: number;
  bySql?: Record<string, number>;
}
/** A service's counts so far, over its processes, and their CPU time (ms, from /proc). */
type PartCount = { statements: number; roundTrips: number; bySql: Record<string, number>; cpuMs: number };

/** The statements and round trips each service's processes made so far (pg-statements.ts's next write). */
async function countedNow(file: string, pids: number[]): Promise<Record<string, PartCount>> {
  const read = (pid: number) => {
    const f = `${file}.${pid}`;
    return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as Counted) : undefined;
  };
  const seqs = new Map(pids.map((pid) => [pid, read(pid)?.seq ?? 0]));
  const byPart: Record<string, PartCount> = {};
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
    const sum = (byPart[d.part] ??= { statements: 0, roundTrips: 0, bySql: {}, cpuMs: 0 });
    sum.cpuMs += processesCpuMs([pid]);
    sum.statements += d.statements;
    sum.roundTrips += d.roundTrips;
    for (const [text, n] of Object.entries(d.bySql ?? {})) sum.bySql[text] = (sum.bySql[text] ?? 0) + n;
  }
  return byPart;
}

/** What the services and PostgreSQL have done so far, to take the difference over a run. */
async function measureNow(admin: pg.Client, file: string, pids: number[], names: string[]) {
  const counted = await countedNow(file, pids);
  const load = process.cpuUsage();
  return {
    counted,
    db: await dbCounters(admin, names),
    own: await ownCpu(admin, names),
    all: allPostgresCpuMs(),
    loadMs: (load.user + load.system) / 1000,
  };
}

/** Per checkout of `run`: statements and round trips by service, PostgreSQL CPU, WAL bytes, transactions. */
async function perCheckout(
  admin: pg.Client,
  before: Awaited<ReturnType<typeof measureNow>>,
  after: Awaited<ReturnType<typeof measureNow>>,
  run: { completed: number; seconds: number },
) {
  const wal = await admin.query<{ b: string }>('select pg_wal_lsn_diff($1, $2)::text as b', [
    after.db.walLsn,
    before.db.walLsn,
  ]);
  const n = Math.max(1, run.completed);
  const per = (x: number) => round(x / n, 2);
  const services = Object.keys(after.counted).filter((k) => k !== 'carrier');
  const by = (what: 'statements' | 'roundTrips') =>
    Object.fromEntries(services.map((k) => [k, per(after.counted[k]![what] - (before.counted[k]?.[what] ?? 0))]));
  const statements = by('statements');
  const roundTrips = by('roundTrips');
  const sum = (o: Record<string, number>) =>
    round(
      Object.values(o).reduce((x, y) => x + y, 0),
      2,
    );
  const own = ownCpuSpent(before.own, after.own);
  const cpu = Object.fromEntries(
    Object.entries(after.counted).map(([k, c]) => [k, round((c.cpuMs - (before.counted[k]?.cpuMs ?? 0)) / n, 2)]),
  );
  return {
    checkoutsPerSec: round(run.completed / run.seconds),
    statementsPerCheckoutByService: statements,
    statementsPerCheckout: sum(statements),
    roundTripsPerCheckoutByService: roundTrips,
    roundTripsPerCheckout: sum(roundTrips),
    dbCpuMsPerCheckout: round(own.ms / n, 3),
    // Every postgres process on the machine (ended backends too): the same plus whatever else ran on it.
    allPostgresCpuMsPerCheckout: round((after.all - before.all) / n, 3),
    backendsEndedDuringRun: own.ended,
    walBytesPerCheckout: round(Number(wal.rows[0]!.b) / n),
    // The services' own CPU (their processes, from /proc), the development carrier's and the load generator's
    // beside PostgreSQL's: on one machine they share its cores, so together they bound checkoutsPerSec.
    serviceCpuMsPerCheckoutByService: cpu,
    serviceCpuMsPerCheckout: sum(Object.fromEntries(services.map((k) => [k, cpu[k] ?? 0]))),
    loadCpuMsPerCheckout: round((after.loadMs - before.loadMs) / n, 2),
    transactionsPerCheckout: per(after.db.transactions - before.db.transactions),
    ...(process.env.TVPAY_BENCH_SQL_TOP ? { topStatements: topStatements(before.counted, after.counted, n) } : {}),
  };
}

/** The statement texts sent during the run, per checkout and service, most first (`TVPAY_BENCH_SQL_TOP` of them). */
function topStatements(before: Record<string, PartCount>, after: Record<string, PartCount>, n: number) {
  const rows = Object.entries(after)
    .filter(([service]) => service !== 'carrier')
    .flatMap(([service, c]) =>
      Object.entries(c.bySql).map(([sql, count]) => ({
        service,
        perCheckout: round((count - (before[service]?.bySql[sql] ?? 0)) / n, 2),
        sql,
      })),
    );
  return rows
    .filter((r) => r.perCheckout >= 0.01)
    .sort((a, b) => b.perCheckout - a.perCheckout)
    .slice(0, Number(process.env.TVPAY_BENCH_SQL_TOP));
}

/**
 * `checkout` on PostgreSQL: both services on fresh databases of the bench's PostgreSQL, each service in
 * its own process (`instances` of the back-end and of the payment server behind round-robin proxies, as
 * the e2e tests run them), the same closed loop of checkouts as the SQLite figure. With `together`, all three
 * services in one process as `npm start` runs them (the peers' calls in-process, no socket), like the SQLite figure:
 * its statements are counted as one part, `all`. Per checkout: the
 * statements and round trips by service, PostgreSQL's CPU time for the bench's databases (pg-server.ts),
 * the WAL bytes and the transactions; with two instances, the lock waits of the payment server's backends.
 */
export async function pgCheckout(tvCount: number, seconds: number, instances: number, together = false) {
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
      together,
      nodeArgs: [...serverNodeArgs(), '--import', 'tsx', '--import', join(import.meta.dirname, 'pg-statements.ts')],
    },
  );
  const tvpay = { urls: p.urls, device: p.deviceToken, admin: p.secrets.adminToken };
  try {
    const tvs = await benchPhones(tvpay, tvCount);
    await closedLoop(tvpay, tvs, Math.min(2, seconds)); // warm-up, not counted
    const pids = p.pids();
    const before = await measureNow(admin, file, pids, names);
    // Lock waits are sampled only where two instances of each service share the rows (the sampling has a cost).
    const locks = instances > 1 ? sampleLockWaits(admin, names[1]!) : undefined;
    const run = await closedLoop(tvpay, tvs, seconds);
    const lockWaits = await locks?.();
    const after = await measureNow(admin, file, pids, names);
    // The machine's floor, measured right after the run (on a quiet machine, tens of µs).
    const selectOneCpuUs = await roundTripFloorUs(benchPgUrl());
    return { run: summary(run), ...(await perCheckout(admin, before, after, run)), selectOneCpuUs, lockWaits };
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

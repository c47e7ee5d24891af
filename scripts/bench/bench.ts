import autocannon from 'autocannon';
import os from 'node:os';
import { benchPhones, closedLoop, openLoop, summary } from './checkout-load.ts';
import { snapshot, shapeOf } from './checkout-chain.ts';
import { startBareChain, startHello, startTvpay } from './processes.ts';
import { ledgerPairs, limitCommit } from './raw-benches.ts';
import { cpuTimes, median, round, stealPercent } from './stats.ts';
import { streamsBench } from './streams.ts';
import { consoleScale } from './console-scale.ts';
import { renewalsBench } from './renewals.ts';
import { checkoutSql } from './checkout-sql.ts';
import { benchPgUrl, pgCheckout, pgStatusRead } from './pg-bench.ts';
import { processesCpuMs } from './pg-server.ts';
import { freshPgDatabase } from '../../test/support/pg.ts';

/**
 * `npm run bench [-- --json]`: every figure beside a limit measured in the
 * same run on the same machine. Load comes from this process; the servers
 * run in their own processes. Sizes: TVPAY_BENCH_SECONDS, TVPAY_BENCH_TVS,
 * TVPAY_BENCH_STREAMS.
 */
const SECONDS = Number(process.env.TVPAY_BENCH_SECONDS ?? 5);
const TVS = Number(process.env.TVPAY_BENCH_TVS ?? 32);
const STREAMS = Number(process.env.TVPAY_BENCH_STREAMS ?? 10_000);
const asJson = process.argv.includes('--json');
/**
 * `--pg` (or TVPAY_BENCH_PG_URL set): the figures on PostgreSQL (`pg-checkout`, `pg-status-read`, `pg-ledger`,
 * `pg-console-scale`, `pg-renewals`), with the SQLite `checkout` of the same run to compare.
 */
const onPg = process.argv.includes('--pg') || process.env.TVPAY_BENCH_PG_URL !== undefined;
const PG_PARTS = ['pg-checkout', 'pg-status-read', 'pg-ledger', 'pg-console-scale', 'pg-renewals'];
/**
 * `--only=checkout,ledger` measures some figures (to measure one change quickly); the default is all. With
 * `--pg`, a figure that has a PostgreSQL form means that form (`--only=renewals --pg` is `pg-renewals`), and
 * `checkout` brings the SQLite one of the same run beside it.
 */
const onlyArg = process.argv
  .find((a) => a.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');
const only = onPg
  ? (onlyArg ?? ['checkout', ...PG_PARTS]).flatMap((part) =>
      part === 'checkout' ? ['checkout', 'pg-checkout'] : PG_PARTS.includes(`pg-${part}`) ? [`pg-${part}`] : [part],
    )
  : onlyArg;
const want = (
  part:
    | 'limit-http'
    | 'limit-commit'
    | 'ledger'
    | 'status-read'
    | 'checkout'
    | 'checkout-sql'
    | 'checkout-split'
    | 'streams'
    | 'console-scale'
    | 'renewals'
    | 'pg-checkout'
    | 'pg-status-read'
    | 'pg-ledger'
    | 'pg-console-scale'
    | 'pg-renewals',
) => (only ? only.includes(part) : !part.startsWith('pg-'));
/** Orders in the stores for `console-scale` (TVPAY_BENCH_ORDERS, a million). */
const ORDERS = Number(process.env.TVPAY_BENCH_ORDERS ?? 1_000_000);
/** Subscriptions due at once for `renewals` (TVPAY_BENCH_RENEWALS, 100,000). */
const RENEWALS = Number(process.env.TVPAY_BENCH_RENEWALS ?? 100_000);
/** Turns of hello-world and status read, each measured SECONDS (TVPAY_BENCH_ROUNDS, 3); the figures are their medians. */
const ROUNDS = Number(process.env.TVPAY_BENCH_ROUNDS ?? 3);
const printed = new Set<string>();
/** Progress, and with `--json` each figure on stderr as soon as it is measured (a run cut short keeps what it had). */
const say = (line: string) => {
  if (asJson)
    for (const [k, v] of Object.entries(results))
      if (!printed.has(k) && printed.add(k)) process.stderr.write(`  ${k} ${JSON.stringify(v)}\n`);
  (asJson ? process.stderr : process.stdout).write(`${line}\n`);
};

/** Requests per second at `url` in steady state: 2 s of the same load first, not counted (the JIT's warm-up, the same for bare Fastify and tvpay). */
async function rps(url: string, headers: Record<string, string> = {}): Promise<{ rps: number; p99: number }> {
  await autocannon({ url, headers, connections: 32, duration: 2, pipelining: 1 });
  const r = await autocannon({ url, headers, connections: 32, duration: SECONDS, pipelining: 1 });
  return { rps: r.requests.average, p99: r.latency.p99 };
}

const results: Record<string, unknown> = {
  machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${round(os.totalmem() / 2 ** 30)} GiB`,
  date: new Date().toISOString(),
  node: process.version,
  // The machine's load (1, 5, 15 minutes) as the run starts and ends: on a shared machine, what else ran.
  loadAtStart: os.loadavg().map((l) => round(l, 2)),
};

const stealAtStart = cpuTimes();
// With the status read, the hello-world stays up: the two are measured in turns (statusReadRounds).
const hello = want('limit-http') || want('status-read') ? await startHello() : undefined;
if (hello && !want('status-read')) {
  say('limit-http: bare Fastify hello-world …');
  results.limitHttp = round((await rps(hello.url)).rps);
  hello.stop();
}

if (want('limit-commit') || want('ledger')) {
  say('limit-commit: raw better-sqlite3 durable commits …');
  results.limitCommit = round(limitCommit(SECONDS));
}
if (want('ledger')) {
  say('ledger: hold + capture pairs through the ledger, one payer, then 64 at once …');
  results.ledgerOnePayerPerSec = round(await ledgerPairs(SECONDS, 1));
  results.ledgerPerSec = round(await ledgerPairs(SECONDS, 64));
  results.ledgerRatio = round((results.ledgerPerSec as number) / (results.limitCommit as number), 3);
}

let chain: ReturnType<typeof shapeOf> | undefined;
const tvpay = want('status-read') || want('checkout') || want('streams') ? await startTvpay() : undefined;
if (tvpay) {
  try {
    if (want('status-read')) {
      say(`limit-http and status-read: bare Fastify hello-world and a TV reading its order, in ${ROUNDS} turns each …`);
      const order = await (
        await fetch(`${tvpay.urls.backend}/v1/orders`, {
          method: 'POST',
          headers: { authorization: `Bearer ${tvpay.device}`, 'content-type': 'application/json' },
          body: '{"productId":"kids-app"}',
        })
      ).json();
      // In turns, so that a machine whose speed wanders (a shared host's steal) moves the limit and the figure alike.
      const turns: Array<{ bare: { rps: number; p99: number }; status: { rps: number; p99: number } }> = [];
      for (let i = 0; i < ROUNDS; i++)
        turns.push({
          bare: await rps(hello!.url),
          status: await rps(`${tvpay.urls.backend}/v1/orders/${order.orderId}`, {
            authorization: `Bearer ${tvpay.device}`,
          }),
        });
      hello!.stop();
      results.limitHttp = round(median(turns.map((t) => t.bare.rps)));
      results.statusRead = round(median(turns.map((t) => t.status.rps)));
      results.statusReadP99Ms = median(turns.map((t) => t.status.p99));
      results.statusReadRatio = round(median(turns.map((t) => t.status.rps / t.bare.rps)), 3);
      results.statusReadRounds = turns.map((t) => ({ limitHttp: round(t.bare.rps), statusRead: round(t.status.rps) }));
    }

    if (want('checkout')) {
      say(`checkout: ${TVS} TVs, full load then 50% …`);
      const phones = await benchPhones(tvpay, TVS * 2);
      const before = await snapshot(tvpay);
      const cpuBefore = processesCpuMs(tvpay.pids);
      const fullRun = await closedLoop(tvpay, phones.slice(0, TVS), SECONDS * 2);
      const full = summary(fullRun);
      // The one process's CPU (its event loop and its threads: SQLite's WAL syncs), comparable with the
      // PostgreSQL run's services' and PostgreSQL's own.
      results.checkoutCpuMsPerCheckout = round(
        (processesCpuMs(tvpay.pids) - cpuBefore) / Math.max(1, fullRun.completed),
        2,
      );
      chain = shapeOf(before, await snapshot(tvpay), fullRun.completed);
      results.checkoutsPerSec = round(full.perSec);
      results.checkoutFullLoad = {
        callP50Ms: round(full.callP50),
        callP99Ms: round(full.callP99),
        callP99MsByKind: full.callP99ByKind,
        checkoutP50Ms: round(full.checkoutP50),
        checkoutP99Ms: round(full.checkoutP99),
        failed: full.failed,
      };
      const half = summary(await openLoop(tvpay, phones, Math.max(0.5, full.perSec / 2), SECONDS * 2));
      results.checkoutHalfLoad = {
        perSec: round(half.perSec),
        callP50Ms: round(half.callP50),
        callP99Ms: round(half.callP99),
        callP99MsByKind: half.callP99ByKind,
        checkoutP50Ms: round(half.checkoutP50),
        checkoutP99Ms: round(half.checkoutP99),
        failedOrDropped: half.failed,
      };
      results.checkoutP99Ms = round(half.checkoutP99);
      results.apiCallP99MsAtHalfLoad = round(half.callP99);
    }

    if (want('streams')) {
      say(`streams: ${STREAMS} TV event streams on one back-end …`);
      const s = await streamsBench(tvpay, STREAMS, Math.min(200, Math.max(1, Math.floor(STREAMS / 50))));
      results.streams = s.streams;
      results.streamsFailed = s.failed;
      results.streamsRssMb = round(s.rssMb);
      results.streamsP50Ms = round(s.p50Ms);
      results.streamsP99Ms = round(s.p99Ms);
      results.streamsEvents = s.events;
    }
  } finally {
    hello?.stop();
    await tvpay.stop();
  }
}

if (want('checkout') && chain) {
  // The same client, TVs and seconds against the bare chain shaped like the run above.
  say('limit-checkout: the same chain of exchanges and durable commits on bare node:http …');
  const bare = await startBareChain(chain);
  try {
    const tvs = Array.from({ length: TVS }, (_, i) => ({
      phone: `1390${String(i).padStart(7, '0')}`,
      device: `bare-${i}`,
    }));
    const costBefore = await bare.cost();
    const run = await closedLoop(bare, tvs, SECONDS * 2);
    const costAfter = await bare.cost();
    const served = await bare.served();
    results.limitCheckout = round(run.completed / run.seconds);
    // What one checkout of the bare chain took of its event loop, and the part of that in SQLite.
    results.limitCheckoutLoopMs = round((costAfter.loopMs - costBefore.loopMs) / Math.max(1, run.completed), 3);
    results.limitCheckoutSqlMs = round((costAfter.sqlMs - costBefore.sqlMs) / Math.max(1, run.completed), 3);
    results.checkoutRatio = round((results.checkoutsPerSec as number) / (results.limitCheckout as number), 3);
    results.checkoutChain = {
      tvpay: chain.perCheckout,
      bare: Object.fromEntries(
        Object.entries(served).map(([route, n]) => [route, round(n / Math.max(1, run.completed), 2)]),
      ),
      bareFailed: run.failed,
    };
  } finally {
    bare.stop();
  }
}

if (want('checkout-sql')) {
  say(`checkout-sql: ${TVS} TVs, every SQLite statement timed …`);
  const sql = await checkoutSql(TVS, SECONDS * 2);
  results.checkoutSqlMs = sql.sqlMsPerCheckout;
  results.checkoutStatements = sql.statementsPerCheckout;
  results.checkoutSql = sql;
  if (typeof results.limitCheckoutLoopMs === 'number') {
    // The ratio tvpay would reach if everything it does but its SQL cost no more than the bare chain's
    // plain node:http (the event loop is the bound of both): an upper bound, measured.
    const loopMs =
      (results.limitCheckoutLoopMs as number) - (results.limitCheckoutSqlMs as number) + sql.sqlMsPerCheckout;
    results.checkoutRatioCeiling = round(1000 / ((results.limitCheckout as number) * loopMs), 3);
  }
}

if (want('checkout-split')) {
  // The same closed loop with each service in its own process (`tvpay backend|payserver|carrier`):
  // what the second core adds when one event loop is the bound.
  say(`checkout, services as separate processes: ${TVS} TVs …`);
  const split = await startTvpay(true);
  try {
    const phones = await benchPhones(split, TVS);
    const run = summary(await closedLoop(split, phones, SECONDS * 2));
    results.checkoutsPerSecSplit = round(run.perSec);
    results.checkoutSplit = {
      callP50Ms: round(run.callP50),
      callP99Ms: round(run.callP99),
      checkoutP50Ms: round(run.checkoutP50),
      checkoutP99Ms: round(run.checkoutP99),
      failed: run.failed,
    };
  } finally {
    await split.stop();
  }
}

if (want('console-scale')) {
  say(`console-scale: ${ORDERS} orders and their payments in the stores; the operator's reads …`);
  consoleScaleFigures(await consoleScale(ORDERS, SECONDS), false);
}

if (want('renewals')) {
  say(`renewals: ${RENEWALS} subscriptions due at the same moment, TVs calling meanwhile …`);
  const r = await renewalsBench(RENEWALS, true);
  Object.assign(results, { renewalsSeconds: r.renewalsSeconds, renewalApiP99Ms: r.renewalApiP99Ms });
  results.renewals = r;
}

if (PG_PARTS.some((part) => only?.includes(part))) await pgFigures();

results.stealPercent = stealPercent(stealAtStart, cpuTimes());
results.loadAtEnd = os.loadavg().map((l) => round(l, 2));
if (asJson) {
  process.stdout.write(`${JSON.stringify(results)}\n`);
} else {
  for (const [k, v] of Object.entries(results)) say(`${k.padEnd(24)} ${typeof v === 'object' ? JSON.stringify(v) : v}`);
}
process.exit(0);

/**
 * The PostgreSQL figures (issue 30): the checkout with one and with two instances of each service, the
 * status read and the ledger, each on fresh databases; and the capacity of one 16-core primary on paper
 * from PostgreSQL's own CPU time per checkout.
 */
async function pgFigures() {
  say(`PostgreSQL at ${benchPgUrl().replace(/\/\/[^@]*@/, '//')} …`);
  if (want('pg-ledger')) {
    say('pg-ledger: hold + capture pairs through the ledger on PostgreSQL, 64 payers …');
    const db = await freshPgDatabase();
    try {
      results.pgLedgerPerSec = round(await ledgerPairs(SECONDS, 64, db.url));
    } finally {
      await db.drop();
    }
  }
  if (want('pg-status-read')) {
    say('pg-status-read: a TV reading its order, the back-end on PostgreSQL …');
    Object.assign(results, await pgStatusRead(SECONDS));
  }
  if (want('pg-checkout')) await pgCheckouts();
  if (want('pg-console-scale')) {
    say(`pg-console-scale: ${ORDERS} orders and their payments on PostgreSQL; the operator's reads …`);
    consoleScaleFigures(await consoleScale(ORDERS, SECONDS, true), true);
  }
  if (want('pg-renewals')) {
    say(`pg-renewals: ${RENEWALS} due at once, two back-ends and two payment servers on PostgreSQL …`);
    const r = await renewalsBench(RENEWALS, true, true);
    Object.assign(results, {
      pgRenewalsSeconds: r.renewalsSeconds,
      pgRenewalApiP99Ms: r.renewalApiP99Ms,
      pgRenewalsChargedTwice: r.chargedTwice,
      pgRenewalCpuMs: r.cpuMsPerRenewal,
      pgRenewalCoresFor100kIn600s: r.coresFor100kIn600s,
    });
    results.pgRenewals = r;
  }
}

/** The million orders' figures under their keys, `pg`-prefixed on PostgreSQL (`pgAdminSearchP99Ms`). */
function consoleScaleFigures(s: Awaited<ReturnType<typeof consoleScale>>, onPostgres: boolean) {
  const key = (k: string) => (onPostgres ? `pg${k[0]!.toUpperCase()}${k.slice(1)}` : k);
  for (const k of [
    'adminSearchP99Ms',
    'timelineP99Ms',
    'consoleOrdersP99Ms',
    'statementSeconds',
    'reconciliationSeconds',
  ] as const)
    results[key(k)] = s[k];
  results[key('consoleScale')] = s;
}

/** `pg-checkout` with one and with two instances of each service, and a 16-core primary on paper. */
async function pgCheckouts() {
  for (const instances of [1, 2]) {
    say(`pg-checkout: ${TVS} TVs, ${instances} instance(s) of each service on PostgreSQL …`);
    const r = await pgCheckout(TVS, SECONDS * 2, instances);
    if (instances === 1) {
      results.pgCheckoutsPerSec = r.checkoutsPerSec;
      results.pgStatementsPerCheckout = r.statementsPerCheckout;
      results.pgStatementsPerCheckoutByService = r.statementsPerCheckoutByService;
      results.pgRoundTripsPerCheckout = r.roundTripsPerCheckout;
      results.pgRoundTripsPerCheckoutByService = r.roundTripsPerCheckoutByService;
      results.pgDbCpuMsPerCheckout = r.dbCpuMsPerCheckout;
      results.pgServiceCpuMsPerCheckout = r.serviceCpuMsPerCheckout;
      results.pgServiceCpuMsPerCheckoutByService = r.serviceCpuMsPerCheckoutByService;
      results.pgSelectOneCpuUs = r.selectOneCpuUs;
      results.pgWalBytesPerCheckout = r.walBytesPerCheckout;
      results.pgTransactionsPerCheckout = r.transactionsPerCheckout;
      Object.assign(results, primaryOnPaper(r));
    } else {
      results.pgCheckoutsPerSecTwoInstances = r.checkoutsPerSec;
      results.pgDbCpuMsPerCheckoutTwoInstances = r.dbCpuMsPerCheckout;
      results.pgMerchantRowLockWaitShare = r.lockWaits?.merchantRowLockWaitShare;
      results.pgLockWaitShare = r.lockWaits?.lockWaitShare;
    }
    results[instances === 1 ? 'pgCheckout' : 'pgCheckoutTwoInstances'] = r;
  }
  // Like for like with the SQLite figure: the three services in one process, only the database changed.
  say(`pg-checkout: ${TVS} TVs, all three services in one process on PostgreSQL …`);
  const one = await pgCheckout(TVS, SECONDS * 2, 1, true);
  results.pgCheckoutsPerSecOneProcess = one.checkoutsPerSec;
  results.pgCheckoutOneProcess = one;
}

/**
 * One 16-core primary on paper, from the per-checkout costs measured on one instance of each service: its
 * CPU (16 cores of PostgreSQL's own time) and its WAL (200 MB/s of sustained WAL writes, what a good NVMe
 * volume keeps up, taken as the disk's bound). The smaller is the capacity, and names the bounding resource.
 * The transactions a second it would mean are given beside it: each commit waits for a WAL flush, but
 * concurrent commits share one, so they are not a bound of their own.
 */
function primaryOnPaper(r: {
  dbCpuMsPerCheckout: number;
  walBytesPerCheckout: number;
  transactionsPerCheckout: number;
}) {
  const bounds = {
    cpu: (16 * 1000) / Math.max(0.001, r.dbCpuMsPerCheckout),
    wal: (200 * 2 ** 20) / Math.max(1, r.walBytesPerCheckout),
  };
  const [bound, perSec] = Object.entries(bounds).sort((a, b) => a[1] - b[1])[0]!;
  return {
    pgPrimaryCheckoutsPerSec16Cores: round(perSec),
    pgPrimaryBound: bound,
    pgPrimaryBounds: Object.fromEntries(Object.entries(bounds).map(([k, v]) => [k, round(v)])),
    pgPrimaryWalMbPerSec16Cores: round((perSec * r.walBytesPerCheckout) / 2 ** 20, 1),
    pgPrimaryTransactionsPerSec16Cores: round(perSec * r.transactionsPerCheckout),
  };
}

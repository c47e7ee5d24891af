import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../../test/support/eventually.ts';
import { benchPhones, closedLoop } from './checkout-load.ts';
import { startTvpay } from './processes.ts';
import { round } from './stats.ts';

interface Dump {
  seq: number;
  loopMs: number;
  statements: Record<string, [number, number]>;
}

const read = (file: string): Dump | undefined =>
  existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Dump) : undefined;

/**
 * What sql-timing.ts has counted by now: the first of its writes (every 200 ms) made after this call,
 * so that a window between two calls holds the whole run between them and nothing from before it.
 */
async function countedNow(file: string): Promise<Dump> {
  const seen = read(file)?.seq ?? 0;
  return eventually(
    () => {
      const d = read(file);
      if (!d || d.seq <= seen) throw new Error('checkout-sql: the tvpay process did not write its SQL timing');
      return d;
    },
    5000,
    25,
  );
}

/** How many of the costliest statements it lists (TVPAY_BENCH_SQL_TOP, 12; a large number lists them all). */
const TOP = Number(process.env.TVPAY_BENCH_SQL_TOP ?? 12);

/**
 * `checkout-sql`: where a checkout's SQLite time goes. The same closed loop
 * of checkouts as `checkout`, on a tvpay whose every statement is timed
 * inside better-sqlite3 (sql-timing.ts): statements and SQLite time per
 * checkout (in all and by service), the event loop's busy time per checkout,
 * and the statements that take the most. A run of its own, since the timing itself costs a little.
 */
export async function checkoutSql(tvCount: number, seconds: number) {
  const dir = mkdtempSync(join(tmpdir(), 'tvpay-sql-timing-'));
  const file = join(dir, 'timing.json');
  const tvpay = await startTvpay(false, {
    nodeArgs: ['--import', 'tsx', '--import', join(import.meta.dirname, 'sql-timing.ts')],
    env: { TVPAY_BENCH_SQL_TIMING_FILE: file },
  });
  try {
    const tvs = await benchPhones(tvpay, tvCount);
    // A first loop warms the JIT and the statement caches, as the checkout figure's first seconds do.
    await closedLoop(tvpay, tvs, Math.min(2, seconds));
    const before = await countedNow(file);
    const run = await closedLoop(tvpay, tvs, seconds);
    const after = await countedNow(file);
    const n = Math.max(1, run.completed);
    const rows = Object.entries(after.statements).map(([key, [count, ns]]) => {
      const [c0, ns0] = before.statements[key] ?? [0, 0];
      const [service, sql] = key.split('\t') as [string, string];
      return { service, sql, count: count - c0, ms: (ns - ns0) / 1e6 };
    });
    const total = rows.reduce((a, r) => ({ count: a.count + r.count, ms: a.ms + r.ms }), { count: 0, ms: 0 });
    const byService: Record<string, number> = {};
    for (const r of rows) byService[r.service] = (byService[r.service] ?? 0) + r.count;
    return {
      checkouts: run.completed,
      statementsPerCheckout: round(total.count / n),
      /** A deployment's services (the development carrier is not one): what issue 30 counts. */
      checkoutStatementsByService: {
        backend: round((byService.backend ?? 0) / n, 2),
        payserver: round((byService.payserver ?? 0) / n, 2),
      },
      carrierStatementsPerCheckout: round((byService.carrier ?? 0) / n, 2),
      sqlMsPerCheckout: round(total.ms / n, 3),
      loopMsPerCheckout: round((after.loopMs - before.loopMs) / n, 3),
      top: rows
        .filter((r) => r.count > 0)
        .sort((a, b) => b.ms - a.ms)
        .slice(0, TOP)
        .map((r) => ({
          service: r.service,
          perCheckout: round(r.count / n, 2),
          microsPerCheckout: round((r.ms * 1000) / n),
          microsEach: round((r.ms * 1000) / Math.max(1, r.count)),
          sql: r.sql.replace(/\s+/g, ' ').slice(0, 160),
        })),
    };
  } finally {
    await tvpay.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

import { readdirSync, readFileSync } from 'node:fs';
import type pg from 'pg';
import { round } from './stats.ts';

/** USER_HZ is 100 on Linux: a tick of /proc's CPU times is 10 ms. */
const TICK_MS = 10;

/** A process's CPU time (ms) from /proc: its own (`utime + stime`) and with its reaped children's added. */
function procCpuMs(pid: number | string): { own: number; withChildren: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime, stime, cutime, cstime are fields 14–17 of stat; here they are 11–14 after the comm.
    const own = (Number(f[11]) + Number(f[12])) * TICK_MS;
    return { own, withChildren: own + (Number(f[13]) + Number(f[14])) * TICK_MS };
  } catch {
    return undefined; // the process ended while we read it
  }
}

/**
 * CPU time (ms) of every `postgres` process on this machine, the ended ones included (the postmaster
 * reaps its backends, so their time is in its children's): all of PostgreSQL's work, whoever asked for it.
 */
export function allPostgresCpuMs(): number {
  let total = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'postgres') continue;
    } catch {
      continue;
    }
    total += procCpuMs(pid)?.withChildren ?? 0;
  }
  return total;
}

/** CPU time (ms) so far of processes by id (a service's instances); one that has ended counts 0. */
export function processesCpuMs(pids: number[]): number {
  return pids.reduce((sum, pid) => sum + (procCpuMs(pid)?.own ?? 0), 0);
}

/** The CPU time so far of each backend serving `names` and of the server's own helpers (WAL writer, …). */
export interface OwnCpu {
  byPid: Map<number, number>;
}

/**
 * PostgreSQL's CPU for the bench's databases alone: the backends connected to them, and the helpers every
 * write needs (WAL writer, background writer, checkpointer), read from /proc by process id. Other work on
 * the same server (another worker's tests) is left out, except its share of those helpers.
 */
export async function ownCpu(admin: pg.Client, names: string[]): Promise<OwnCpu> {
  const r = await admin.query<{ pid: number }>(
    `select pid from pg_stat_activity
      where datname = any($1) or backend_type in ('walwriter', 'background writer', 'checkpointer')`,
    [names],
  );
  return { byPid: new Map(r.rows.map((x) => [x.pid, procCpuMs(x.pid)?.own ?? 0])) };
}

/** CPU (ms) spent between two readings; a backend that ended between them is lost (`ended` counts them). */
export function ownCpuSpent(before: OwnCpu, after: OwnCpu): { ms: number; ended: number } {
  let ms = 0;
  for (const [pid, now] of after.byPid) ms += now - (before.byPid.get(pid) ?? 0);
  const ended = [...before.byPid.keys()].filter((pid) => !after.byPid.has(pid)).length;
  return { ms, ended };
}

interface Tally {
  busy: number;
  lockWaits: number;
  merchantRowWaits: number;
  byWait: Map<string, number>;
}

/**
 * Samples `pg_stat_activity` of the payment server's database every `everyMs` until stopped: of the
 * backends busy for it (running a statement or inside a transaction), how many wait for a lock, on what,
 * and how many of those wait for a row of `ledger_accounts` in an UPDATE (the balance moves). In the bench
 * every wallet is its own TV's and a TV makes one checkout at a time, so the only ledger row two payments
 * share is the merchant's account: a wait there is a wait on the merchant row.
 */
export function sampleLockWaits(admin: pg.Client, payserverDb: string, everyMs = 20) {
  const t: Tally = { busy: 0, lockWaits: 0, merchantRowWaits: 0, byWait: new Map() };
  let samples = 0;
  let running = true;
  const done = (async () => {
    while (running) {
      const r = await admin.query<{
        state: string;
        wait_event_type: string | null;
        wait_event: string | null;
        q: string;
      }>(
        `select state, wait_event_type, wait_event, left(query, 60) as q from pg_stat_activity
          where datname = $1 and backend_type = 'client backend' and state in ('active', 'idle in transaction')
            and query not ilike 'listen %'`,
        [payserverDb],
      );
      samples++;
      for (const row of r.rows) {
        t.busy++;
        if (row.wait_event_type !== 'Lock') continue;
        t.lockWaits++;
        const key = `${row.wait_event} ${row.q.replace(/\s+/g, ' ')}`;
        t.byWait.set(key, (t.byWait.get(key) ?? 0) + 1);
        // A balance move waits for the row's last mover; creating the system account (INSERT … ON CONFLICT DO
        // NOTHING, every capture) waits for it too, to learn whether the row it conflicts with stays.
        if (/^(update|insert into) "ledger_accounts"/i.test(row.q)) t.merchantRowWaits++;
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return async () => {
    running = false;
    await done;
    const share = (x: number) => round(x / Math.max(1, t.busy), 4);
    return {
      samples,
      busyBackendSamples: t.busy,
      lockWaitShare: share(t.lockWaits),
      merchantRowLockWaitShare: share(t.merchantRowWaits),
      lockWaitsByWhat: Object.fromEntries([...t.byWait].sort((a, b) => b[1] - a[1]).slice(0, 6)),
    };
  };
}

/**
 * The machine's floor: PostgreSQL's CPU time (µs) for one `select 1` round trip on a connection of its own,
 * measured beside the figures. What a statement costs the server depends on the machine as much as on the
 * statement (on a shared, overloaded VM the floor rises many times over), so per-checkout CPU is read
 * against it: `pgDbCpuMsPerCheckout` ÷ (this × statements) is the work beyond the bare round trips.
 */
export async function roundTripFloorUs(url: string, n = 2000): Promise<number> {
  const { default: Pg } = await import('pg');
  const c = new Pg.Client({ connectionString: url });
  await c.connect();
  try {
    const pid = (await c.query<{ p: number }>('select pg_backend_pid() as p')).rows[0]!.p;
    const before = procCpuMs(pid)?.own ?? 0;
    for (let i = 0; i < n; i++) await c.query('select 1');
    return round((((procCpuMs(pid)?.own ?? 0) - before) * 1000) / n);
  } finally {
    await c.end();
  }
}

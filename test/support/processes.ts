import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { eventually } from './eventually.ts';
import { freshServiceDatabases } from './pg.ts';
import { freePorts } from './ports.ts';
import { roundRobinProxy } from './round-robin-proxy.ts';

const ROOT = resolve(import.meta.dirname, '../..');
type Part = 'carrier' | 'payserver' | 'backend';

/**
 * The real services as separate processes (`src/main.ts <part>`), each on a
 * free loopback port, sharing a fresh data dir; started in order so the first
 * creates the secrets (and migrates and seeds the stores) the others use.
 * With `instances > 1` the back-end and the payment server run that many
 * times each (on PostgreSQL, via the env), behind round-robin proxies that
 * stand in for load balancers.
 */
export interface ProcessOptions {
  /** Instances of the back-end and of the payment server (default 1). */
  instances?: number;
  /** Instances of the payment server, when it differs. */
  payserverInstances?: number;
  /** Extra environment for one part only (say, a crash point). */
  partEnv?: Partial<Record<Part, Record<string, string>>>;
  /** All three services in one process (`tvpay all`, as `npm start` runs them) instead of one each. */
  together?: boolean;
  /** Arguments for node before the entry point (the bench's `--cpu-prof`). */
  nodeArgs?: string[];
  /** Both stores on fresh PostgreSQL databases of their own (dropped by `close`), not on SQLite. */
  postgres?: boolean;
}

export async function startProcesses(env: Record<string, string> = {}, options: ProcessOptions = {}) {
  const nb = options.instances ?? 1;
  const np = options.payserverInstances ?? nb;
  const n = nb + np;
  const pg = options.postgres ? await freshServiceDatabases() : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'tvpay-e2e-'));
  const ports = await freePorts(n + 3);
  const carrierPort = ports[0]!;
  const backendPorts = ports.slice(1, 1 + nb);
  const payserverPorts = ports.slice(1 + nb, 1 + n);
  const [backendProxyPort, payserverProxyPort] = ports.slice(1 + n);
  const at = (port: number) => `http://127.0.0.1:${port}`;
  const instanceUrls: Record<Part, string[]> = {
    carrier: [at(carrierPort)],
    backend: backendPorts.map(at),
    payserver: payserverPorts.map(at),
  };
  const urls: Record<Part, string> = {
    carrier: at(carrierPort),
    backend: nb > 1 ? at(backendProxyPort!) : instanceUrls.backend[0]!,
    payserver: np > 1 ? at(payserverProxyPort!) : instanceUrls.payserver[0]!,
  };
  const baseEnv = {
    ...process.env,
    TVPAY_DATA_DIR: dir,
    TVPAY_CARRIER_PORT: String(carrierPort),
    TVPAY_BACKEND_URL: urls.backend,
    TVPAY_PAYSERVER_URL: urls.payserver,
    TVPAY_CARRIER_URL: urls.carrier,
    TVPAY_LOG_LEVEL: process.env.TVPAY_TEST_LOG ?? 'warn',
    ...pg?.env,
    ...env,
  };
  const children = new Map<string, ChildProcess>();
  const logs: string[] = [];
  const live = (part: Part) =>
    instanceUrls[part].filter((_, i) => {
      const c = children.get(`${part}#${i}`);
      return c && c.exitCode === null && c.signalCode === null;
    });
  const proxies = [
    ...(nb > 1 ? [await roundRobinProxy(backendProxyPort!, () => live('backend'))] : []),
    ...(np > 1 ? [await roundRobinProxy(payserverProxyPort!, () => live('payserver'))] : []),
  ];

  async function startOne(part: Part, i: number, extraEnv: Record<string, string> = options.partEnv?.[part] ?? {}) {
    const port = new URL(instanceUrls[part][i]!).port;
    const portVar =
      part === 'backend' ? 'TVPAY_BACKEND_PORT' : part === 'payserver' ? 'TVPAY_PAYSERVER_PORT' : 'TVPAY_CARRIER_PORT';
    await spawnPart(`${part}#${i}`, part, { ...extraEnv, [portVar]: port }, [instanceUrls[part][i]!]);
  }

  async function spawnPart(name: string, part: Part | 'all', env: Record<string, string>, readyAt: string[]) {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', 'src/main.ts', part], {
      cwd: ROOT,
      env: { ...baseEnv, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => logs.push(`[${name}] ${d}`));
    child.stderr!.on('data', (d) => logs.push(`[${name}] ${d}`));
    children.set(name, child);
    for (const url of readyAt) {
      await eventually(
        async () => {
          if (child.exitCode !== null) throw new Error(`${name} exited: ${logs.join('')}`);
          const res = await fetch(`${url}/readyz`);
          if (res.status !== 200) throw new Error(`${name} not ready`);
        },
        // A process compiles its TypeScript (tsx) as it starts: on a loaded 2-core machine that took over 30 s.
        90_000,
        100,
      );
    }
  }

  async function stopOne(name: string, signal: NodeJS.Signals) {
    const child = children.get(name);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  }

  /** Starts every instance of a part (with `extraEnv` instead of its start-up extras, if given). */
  async function start(part: Part, extraEnv?: Record<string, string>) {
    for (let i = 0; i < instanceUrls[part].length; i++) await startOne(part, i, extraEnv);
  }

  /** Stops every instance of a part (SIGTERM: gracefully; SIGKILL: a crash). */
  async function stop(part: Part, signal: NodeJS.Signals = 'SIGTERM') {
    for (let i = 0; i < instanceUrls[part].length; i++) await stopOne(`${part}#${i}`, signal);
  }

  /** With `together`: (re)starts the one process of all three services. */
  async function startTogether() {
    const port = (part: Part) => new URL(instanceUrls[part][0]!).port;
    await spawnPart('all#0', 'all', { TVPAY_BACKEND_PORT: port('backend'), TVPAY_PAYSERVER_PORT: port('payserver') }, [
      urls.backend,
      urls.payserver,
    ]);
  }

  try {
    if (options.together) await startTogether();
    else for (const part of ['carrier', 'payserver', 'backend'] as const) await start(part);
  } catch (err) {
    await pg?.drop();
    throw err;
  }
  const secrets = JSON.parse(readFileSync(join(dir, 'secrets.json'), 'utf8')) as {
    adminToken: string;
    serviceSecret: string;
    smsInboundToken: string;
  };
  const deviceToken = readFileSync(join(dir, 'demo-device-token'), 'utf8').trim();

  return {
    dir,
    urls,
    instanceUrls,
    secrets,
    deviceToken,
    logs,
    start,
    stop,
    startTogether,
    startOne,
    stopOne,
    exitCode: (part: Part, i = 0) => children.get(`${part}#${i}`)?.exitCode,
    /** The process ids, in start order (one with `together`). */
    pids: () => [...children.values()].map((c) => c.pid!),
    /** Resolves when an instance has died (by itself, e.g. at a crash point), with its signal. */
    died: (part: Part, i = 0) =>
      new Promise<string | number | null>((resolve) => {
        const child = children.get(`${part}#${i}`)!;
        if (child.exitCode !== null || child.signalCode !== null) resolve(child.signalCode ?? child.exitCode);
        else child.once('exit', (code, signal) => resolve(signal ?? code));
      }),
    async close() {
      await stopOne('all#0', 'SIGTERM');
      for (const part of ['backend', 'payserver', 'carrier'] as const) await stop(part);
      for (const proxy of proxies) await proxy.close();
      rmSync(dir, { recursive: true, force: true });
      await pg?.drop();
    },
  };
}

export type Processes = Awaited<ReturnType<typeof startProcesses>>;

/** Small HTTP helpers over real loopback HTTP, as a TV, an operator and a phone would call. */
export function clients(p: Processes) {
  let turn = 0;
  /** Each call goes to the next instance in turn, as behind a load balancer without affinity. */
  const call = (bases: string[], token?: string) => async (method: string, path: string, body?: unknown) => {
    const base = bases[turn++ % bases.length]!;
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
  };
  return {
    tv: call(p.instanceUrls.backend, p.deviceToken),
    /** Requests to the back-end as another device token. */
    as: (token: string) => call(p.instanceUrls.backend, token),
    backendAdmin: call(p.instanceUrls.backend, p.secrets.adminToken),
    payAdmin: call(p.instanceUrls.payserver, p.secrets.adminToken),
    carrier: call([p.urls.carrier]),
  };
}

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { eventually } from './eventually.ts';
import { freePorts } from './ports.ts';

const ROOT = resolve(import.meta.dirname, '../..');
type Part = 'carrier' | 'payserver' | 'backend';

/**
 * The real services as separate processes (`src/main.ts <part>`), each on a
 * free loopback port, sharing a fresh data dir; started in order so the first
 * creates the secrets the others read.
 */
export async function startProcesses(env: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'tvpay-e2e-'));
  const [backend, payserver, carrier] = await freePorts(3);
  const ports: Record<Part, number> = { backend: backend!, payserver: payserver!, carrier: carrier! };
  const urls = Object.fromEntries(Object.entries(ports).map(([k, p]) => [k, `http://127.0.0.1:${p}`])) as Record<Part, string>;
  const fullEnv = {
    ...process.env,
    TVPAY_DATA_DIR: dir,
    TVPAY_BACKEND_PORT: String(ports.backend),
    TVPAY_PAYSERVER_PORT: String(ports.payserver),
    TVPAY_CARRIER_PORT: String(ports.carrier),
    TVPAY_LOG_LEVEL: process.env.TVPAY_TEST_LOG ?? 'warn',
    ...env,
  };
  const children = new Map<Part, ChildProcess>();
  const logs: string[] = [];

  async function start(part: Part) {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', part], { cwd: ROOT, env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d) => logs.push(`[${part}] ${d}`));
    child.stderr!.on('data', (d) => logs.push(`[${part}] ${d}`));
    children.set(part, child);
    await eventually(async () => {
      if (child.exitCode !== null) throw new Error(`${part} exited: ${logs.join('')}`);
      const res = await fetch(`${urls[part]}/readyz`);
      if (res.status !== 200) throw new Error(`${part} not ready`);
    }, 30_000, 100);
  }

  async function stop(part: Part, signal: NodeJS.Signals = 'SIGTERM') {
    const child = children.get(part);
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  }

  for (const part of ['carrier', 'payserver', 'backend'] as const) await start(part);
  const secrets = JSON.parse(readFileSync(join(dir, 'secrets.json'), 'utf8')) as { adminToken: string; serviceSecret: string; smsInboundToken: string };
  const deviceToken = readFileSync(join(dir, 'demo-device-token'), 'utf8').trim();

  return {
    dir,
    urls,
    secrets,
    deviceToken,
    logs,
    start,
    stop,
    exitCode: (part: Part) => children.get(part)?.exitCode,
    async close() {
      for (const part of ['backend', 'payserver', 'carrier'] as const) await stop(part);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type Processes = Awaited<ReturnType<typeof startProcesses>>;

/** Small HTTP helpers over real loopback HTTP, as a TV, an operator and a phone would call. */
export function clients(p: Processes) {
  const call = (base: string, token?: string) => async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
  };
  return {
    tv: call(p.urls.backend, p.deviceToken),
    backendAdmin: call(p.urls.backend, p.secrets.adminToken),
    payAdmin: call(p.urls.payserver, p.secrets.adminToken),
    carrier: call(p.urls.carrier),
  };
}

import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { eventually } from '../../test/support/eventually.ts';
import { freePorts } from '../../test/support/ports.ts';
import { startProcesses } from '../../test/support/processes.ts';
import type { ChainShape } from './checkout-chain.ts';

const ROOT = resolve(import.meta.dirname, '../..');

/** A bare Fastify hello-world in its own process. */
export async function startHello() {
  const [port] = await freePorts(1);
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'hello-server.ts'), String(port)],
    { cwd: ROOT, stdio: 'ignore' },
  );
  const url = `http://127.0.0.1:${port}/`;
  await eventually(
    async () => {
      if (child.exitCode !== null) throw new Error('the hello server exited');
      if (!(await fetch(url)).ok) throw new Error('the hello server is not up');
    },
    30_000,
    100,
  );
  return { url, stop: () => child.kill('SIGTERM') };
}

/** The checkout's chain on bare `node:http` (bare-chain-server.ts), shaped like the tvpay run just measured. */
export async function startBareChain(shape: Omit<ChainShape, 'ports'>) {
  const ports = await freePorts(3);
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'bare-chain-server.ts'), JSON.stringify({ ...shape, ports })],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.on('exit', () => reject(new Error('the bare chain server exited')));
  });
  const [backend, payserver, carrier] = ports.map((p) => `http://127.0.0.1:${p}`);
  return {
    urls: { backend: backend!, payserver: payserver!, carrier: carrier! },
    /** Requests it served by route, to hold beside tvpay's. */
    served: async () => (await fetch(`${backend}/served`)).json() as Promise<Record<string, number>>,
    /** Its event loop's busy time and the part of it in SQLite, in ms since it started. */
    cost: async () => (await fetch(`${backend}/cost`)).json() as Promise<{ loopMs: number; sqlMs: number }>,
    stop: () => child.kill('SIGTERM'),
  };
}

/** TVPAY_BENCH_SERVER_ARGS="--cpu-prof --cpu-prof-dir=prof" profiles the servers under the load. */
export const serverNodeArgs = () => process.env.TVPAY_BENCH_SERVER_ARGS?.split(' ').filter(Boolean) ?? [];

/** Limits raised past what the load asks: the bench measures the work, not the refusals. */
export const UNLIMITED = {
  TVPAY_LIMIT_PAYER_PER_PHONE: '1000000',
  TVPAY_LIMIT_PAYER_PER_DEVICE: '1000000',
  TVPAY_LIMIT_PAYER_PER_ACCOUNT: '1000000',
  TVPAY_LIMIT_PAYER_PER_PREFIX: '1000000',
  TVPAY_LIMIT_CODES_PER_PHONE: '1000000',
  TVPAY_LIMIT_CODES_PER_DEVICE: '1000000',
  TVPAY_LIMIT_ORDERS_PER_DEVICE: '1000000',
  TVPAY_LIMIT_CODE_CHECKS_PER_PHONE: '1000000',
  // The streams figure holds 10,000 streams on a few hundred orders: the caps are what it measures past.
  TVPAY_LIMIT_STREAMS_PER_DEVICE: '10000',
  TVPAY_LIMIT_STREAMS_PER_ORDER: '10000',
};

/**
 * `npm start`'s system (all three services in one process, SQLite) in a fresh data dir, started
 * by the tests' own process harness; with `split`, each service in its own process; `extra`
 * node arguments and environment for a measurement (sql-timing.ts).
 */
export async function startTvpay(split = false, extra: { nodeArgs?: string[]; env?: Record<string, string> } = {}) {
  const p = await startProcesses(
    { ...UNLIMITED, TVPAY_LOG_LEVEL: 'warn', ...extra.env },
    { together: !split, nodeArgs: [...serverNodeArgs(), ...(extra.nodeArgs ?? [])] },
  );
  const pids = p.pids();
  return {
    urls: p.urls,
    pid: pids.at(-1)!,
    pids,
    device: p.deviceToken,
    admin: p.secrets.adminToken,
    stop: () => p.close(),
  };
}

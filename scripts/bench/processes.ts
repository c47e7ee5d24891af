import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { eventually } from '../../test/support/eventually.ts';
import { freePorts } from '../../test/support/ports.ts';
import { startProcesses } from '../../test/support/processes.ts';

const ROOT = resolve(import.meta.dirname, '../..');

/** A bare Fastify hello-world in its own process. */
export async function startHello() {
  const [port] = await freePorts(1);
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'hello-server.ts'), String(port)], { cwd: ROOT, stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}/`;
  await eventually(async () => {
    if (child.exitCode !== null) throw new Error('the hello server exited');
    if (!(await fetch(url)).ok) throw new Error('the hello server is not up');
  }, 30_000, 100);
  return { url, stop: () => child.kill('SIGTERM') };
}

/** Limits raised past what the load asks: the bench measures the work, not the refusals. */
const UNLIMITED = {
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
 * by the tests' own process harness; with `split`, each service in its own process.
 */
export async function startTvpay(split = false) {
  // TVPAY_BENCH_SERVER_ARGS="--cpu-prof --cpu-prof-dir=prof" profiles the server under the load.
  const nodeArgs = process.env.TVPAY_BENCH_SERVER_ARGS?.split(' ').filter(Boolean) ?? [];
  const p = await startProcesses({ ...UNLIMITED, TVPAY_LOG_LEVEL: 'warn' }, { together: !split, nodeArgs });
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

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { freePorts } from '../../test/support/ports.ts';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

const freePort = async () => (await freePorts(1))[0]!;

async function waitFor(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`${url}: the process exited`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up`);
}

/** A bare Fastify hello-world in its own process. */
export async function startHello() {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'hello-server.ts'), String(port)], { cwd: ROOT, stdio: 'ignore' });
  await waitFor(`http://127.0.0.1:${port}/`, child);
  return { url: `http://127.0.0.1:${port}/`, stop: () => child.kill('SIGTERM') };
}

/**
 * `npm start`'s system (all three services in one process, SQLite) in a fresh
 * data dir, limits raised for load; with `split`, each service in its own
 * process (`tvpay backend|payserver|carrier`) on the same data dir.
 */
export async function startTvpay(split = false) {
  const dir = mkdtempSync(join(tmpdir(), 'tvpay-bench-'));
  const [backend, payserver, carrier] = (await freePorts(3)) as [number, number, number];
  // TVPAY_BENCH_SERVER_ARGS="--cpu-prof --cpu-prof-dir=prof" profiles the server under the load.
  const extra = process.env.TVPAY_BENCH_SERVER_ARGS?.split(' ').filter(Boolean) ?? [];
  const start = (part: string) => spawn(process.execPath, [...extra, '--import', 'tsx', 'src/main.ts', part], {
    cwd: ROOT,
    stdio: 'ignore',
    env: {
      ...process.env,
      TVPAY_DATA_DIR: dir,
      TVPAY_BACKEND_PORT: String(backend),
      TVPAY_PAYSERVER_PORT: String(payserver),
      TVPAY_CARRIER_PORT: String(carrier),
      TVPAY_LOG_LEVEL: 'warn',
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
    },
  });
  const children: ChildProcess[] = [];
  // One after the other: the first creates the data dir's secrets, the others read them.
  for (const part of split ? ['carrier', 'payserver', 'backend'] : ['all']) {
    const child = start(part);
    children.push(child);
    const port = { all: backend, backend, payserver, carrier }[part];
    await waitFor(`http://127.0.0.1:${port}/readyz`, child);
  }
  const child = children.at(-1)!;
  const urls = { backend: `http://127.0.0.1:${backend}`, payserver: `http://127.0.0.1:${payserver}`, carrier: `http://127.0.0.1:${carrier}` };
  await waitFor(`${urls.backend}/readyz`, child);
  await waitFor(`${urls.payserver}/readyz`, child);
  const secrets = JSON.parse(readFileSync(join(dir, 'secrets.json'), 'utf8')) as { adminToken: string };
  const device = readFileSync(join(dir, 'demo-device-token'), 'utf8').trim();
  return {
    urls,
    pid: child.pid!,
    pids: children.map((c) => c.pid!),
    device,
    admin: secrets.adminToken,
    async stop() {
      await Promise.all(
        children.map((c) => {
          const exited = new Promise((r) => c.once('exit', r));
          c.kill('SIGTERM');
          return exited;
        }),
      );
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

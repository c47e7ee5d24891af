import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { eventually } from '../support/eventually.ts';
import { freePorts } from '../support/ports.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/**
 * tvpay as its own process on free ports and a fresh data dir: `npm start` itself (build, then the
 * compiled JavaScript) when `npm` is true, else one part run from its sources.
 */
async function start(part: string[], env: Record<string, string> = {}, npm = false) {
  const dir = mkdtempSync(join(tmpdir(), 'tvpay-start-'));
  dirs.push(dir);
  const [backend, payserver, carrier] = await freePorts(3);
  const ports = { backend: backend!, payserver: payserver!, carrier: carrier! };
  const [command, args] = npm
    ? ['npm', ['start', '--silent']]
    : [process.execPath, ['--import', 'tsx', 'src/main.ts', ...part]];
  const child = spawn(command as string, args as string[], {
    cwd: ROOT,
    env: {
      ...process.env,
      TVPAY_DATA_DIR: dir,
      TVPAY_BACKEND_PORT: String(ports.backend),
      TVPAY_PAYSERVER_PORT: String(ports.payserver),
      TVPAY_CARRIER_PORT: String(ports.carrier),
      TVPAY_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, dir, ports, output: () => out, exited };
}

describe('starting and stopping', () => {
  it('exits within 15 s of SIGTERM to `npm start` while TVs hold event streams', async () => {
    const s = await start([], {}, true);
    await eventually(async () => assert.match(s.output(), /tvpay is running/), 120_000, 200);
    const token = readFileSync(join(s.dir, 'demo-device-token'), 'utf8').trim();
    const base = `http://127.0.0.1:${s.ports.backend}`;
    const created = await fetch(`${base}/v1/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{"productId":"kids-app"}',
    });
    const { orderId } = (await created.json()) as { orderId: string };
    const streams = await Promise.all(
      [0, 1].map(() => fetch(`${base}/v1/orders/${orderId}/events?access_token=${token}`)),
    );
    assert.ok(
      streams.every((r) => r.status === 200),
      'streams.every((r) => r.status === 200)',
    );
    const readers = streams.map((r) => r.body!.getReader());
    await Promise.all(readers.map((r) => r.read()));
    const third = await fetch(`${base}/v1/orders/${orderId}/events?access_token=${token}`);
    assert.equal(third.status, 429, 'a third stream on one order is refused');
    assert.equal(((await third.json()) as { code: string }).code, 'STREAMS_LIMITED');
    const t0 = Date.now();
    s.child.kill('SIGTERM');
    const code = await s.exited;
    assert.ok(Date.now() - t0 < 15_000, `took ${Date.now() - t0} ms`);
    assert.equal(code, 0);
    await eventually(async () => {
      const alive = await fetch(`${base}/healthz`).then(
        () => true,
        () => false,
      );
      assert.equal(alive, false, 'nothing of it listens any more');
    });
    for (const r of readers) await r.cancel().catch(() => undefined);
  });

  it('says in one line which service, which port and which variable when a port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const s = await start(['backend'], { TVPAY_BACKEND_PORT: String(port) });
      assert.equal(await s.exited, 1);
      const lines = s
        .output()
        .trim()
        .split('\n')
        .filter((l) => !/^\{/.test(l));
      assert.equal(lines.length, 1, s.output());
      assert.match(lines[0]!, new RegExp(`back-end server.*${port}.*TVPAY_BACKEND_PORT`));
      assert.doesNotMatch(s.output(), /\n\s+at /, 'no stack trace');
    } finally {
      blocker.close();
    }
  });
});

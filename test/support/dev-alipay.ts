/**
 * A development Alipay mounted on a tvpay app on a free port (as the development carrier's server mounts it),
 * on a fresh data dir that `close` removes; the tests of the gateway and of the rail both start it so.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ManualClock } from '../../src/lib/clock.ts';
import { createApp } from '../../src/lib/http/create-app.ts';
import { cryptoRandom } from '../../src/lib/ids.ts';
import type { Log } from '../../src/lib/log.ts';
import { buildDevAlipay } from '../../src/dev-rails/alipay/index.ts';
import { freePorts } from './ports.ts';

export async function startDevAlipay(o: { clock: ManualClock; log: Log; dirPrefix: string; publicSlash?: boolean }) {
  const dir = mkdtempSync(join(tmpdir(), o.dirPrefix));
  const [port] = await freePorts(1);
  const base = `http://127.0.0.1:${port}`;
  const publicUrl = o.publicSlash ? `${base}/` : base;
  const dev = await buildDevAlipay({ dataDir: dir, clock: o.clock, random: cryptoRandom, log: o.log, publicUrl });
  const app = await createApp({ log: o.log, title: 'dev carrier', ready: async () => true });
  dev.routes(app);
  await app.listen({ port: port!, host: '127.0.0.1' });
  return {
    dir,
    dev,
    app,
    base,
    async close() {
      await app.close();
      await dev.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type DevAlipayHarness = Awaited<ReturnType<typeof startDevAlipay>>;

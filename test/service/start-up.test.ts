import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadSecrets } from '../../src/config/secrets.ts';
import { ShiftedClock } from '../../src/lib/clock.ts';
import { cryptoRandom } from '../../src/lib/ids.ts';
import { createLogger } from '../../src/lib/log.ts';
import { secretsBanner, startSystem } from '../../src/system.ts';
import { configOn } from '../support/system.ts';

const dir = mkdtempSync(join(tmpdir(), 'tvpay-start-up-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Starts the three services on the same data dir, collecting the log lines; returns the banner and stops. */
async function startOnce(
  poll?: (carrierApp: NonNullable<Awaited<ReturnType<typeof startSystem>>['carrier']>['app']) => Promise<void>,
) {
  const config = await configOn(dir);
  const { secrets, created } = loadSecrets(config);
  const logs: string[] = [];
  const log = createLogger('info', undefined, { write: (line: string) => void logs.push(line) });
  const system = await startSystem({ config, secrets, clock: new ShiftedClock(), random: cryptoRandom, log });
  try {
    await poll?.(system.carrier!.app);
    return {
      config,
      secrets,
      logs,
      token: system.demoDeviceToken,
      banner: [...system.banner, ...secretsBanner(config, secrets, created)],
    };
  } finally {
    await system.close();
  }
}

describe('start-up', () => {
  let first: Awaited<ReturnType<typeof startOnce>>;
  it('names both consoles, the TV app and where the tokens are kept on the first start', async () => {
    first = await startOnce();
    const text = first.banner.join('\n');
    assert.ok(text.includes(`${first.config.publicUrls.backend}/console/`), text);
    assert.ok(text.includes(`${first.config.publicUrls.payserver}/console/`), text);
    assert.ok(text.includes(`${first.config.publicUrls.backend}/tv/#device=${first.token}`), text);
    assert.ok(text.includes(join(dir, 'secrets.json')), text);
    assert.ok(text.includes(first.secrets.adminToken), 'the admin token is shown once');
  });

  it('after the first start still names the consoles, the TV app and where the tokens are kept, printing no secret', async () => {
    const again = await startOnce();
    const text = again.banner.join('\n');
    assert.ok(text.includes(`${again.config.publicUrls.backend}/console/`), text);
    assert.ok(text.includes(`${again.config.publicUrls.payserver}/console/`), text);
    assert.ok(text.includes(`${again.config.publicUrls.backend}/tv/`), text);
    assert.ok(text.includes(join(dir, 'secrets.json')), text);
    assert.ok(text.includes(join(dir, 'demo-device-token')), text);
    for (const secret of [first.token!, first.secrets.adminToken, first.secrets.smsInboundToken])
      assert.ok(!text.includes(secret), 'a secret was printed again');
  });

  it('does not log the development phone page’s polls at info, and still logs other requests', async () => {
    const run = await startOnce(async (app) => {
      for (let i = 0; i < 3; i++)
        assert.equal((await app.inject({ url: '/dev/v1/phones/8613800138000/messages' })).statusCode, 200);
      assert.equal((await app.inject({ url: '/dev/phones/8613800138000' })).statusCode, 200);
    });
    const lines = run.logs.join('').split('\n');
    assert.ok(
      lines.some((l) => l.includes('"/dev/phones/8613800138000"')),
      'the page itself is logged',
    );
    assert.ok(!lines.some((l) => l.includes('/dev/v1/phones/8613800138000/messages')), 'a poll was logged');
  });
});

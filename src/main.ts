import { join } from 'node:path';
import closeWithGrace from 'close-with-grace';
import { ConfigError, loadConfig, type Config } from './config/config.ts';
import { loadSecrets } from './config/secrets.ts';
import { ShiftedClock, systemClock } from './lib/clock.ts';
import { armCrashPoints } from './lib/crash-points.ts';
import { cryptoRandom } from './lib/ids.ts';
import { createLogger } from './lib/log.ts';
import { shutdownPlan } from './lib/service/shutdown.ts';
import { ALL_PARTS, StartError, startSystem, type Part } from './system.ts';

/** `tvpay [all|backend|payserver|carrier]`: starts services; stops them gracefully on SIGTERM/SIGINT. */
async function main(argv: string[]): Promise<void> {
  // Everything this process creates (databases, secrets, logs) is the owner's alone.
  process.umask(0o077);
  const which = argv[0] ?? 'all';
  if (which !== 'all' && !ALL_PARTS.includes(which as Part)) {
    console.error('Usage: tvpay [all|backend|payserver|carrier]');
    process.exit(2);
  }
  let config: Readonly<Config>;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  armCrashPoints(config.crashAt);
  const { secrets, created } = loadSecrets(config);
  const log = createLogger(config.logLevel);
  const parts = which === 'all' ? ALL_PARTS : [which as Part];
  let system: Awaited<ReturnType<typeof startSystem>>;
  try {
    system = await startSystem(
      { config, secrets, clock: config.testClock ? new ShiftedClock() : systemClock, random: cryptoRandom, log },
      parts,
    );
  } catch (err) {
    if (err instanceof StartError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const banner = [...system.banner];
  if (created) {
    banner.push(
      `admin token              ${secrets.adminToken}   (shown once; kept in ${join(config.dataDir, 'secrets.json')})`,
    );
    banner.push(`SMS inbound token        ${secrets.smsInboundToken}`);
  }
  process.stdout.write(`\ntvpay is running (${parts.join(', ')})\n${banner.map((l) => `  ${l}`).join('\n')}\n\n`);

  // A signal, or an error nothing caught, closes gracefully: the workers finish what they hold, the
  // HTTP server drains, the stores close; whatever a client holds open, the process is gone within the deadline
  // (connections still open at half of it are cut; the process exits anyway a little before it).
  const limitMs = config.shutdownSeconds * 1000;
  closeWithGrace(
    {
      delay: shutdownPlan(limitMs).forceExitAfterMs,
      logger: { error: (m: unknown) => log.error(m instanceof Error ? { err: m } : { detail: m }, 'shutting down') },
      onTimeout: () =>
        log.error({ seconds: config.shutdownSeconds }, 'shutdown took longer than its deadline; exiting now'),
    },
    async ({ signal, err }) => {
      if (err) log.error({ err }, 'an error nothing caught; shutting down');
      else log.info({ signal }, 'shutting down');
      await system.close(shutdownPlan(limitMs).cutConnectionsAt);
    },
  );
}

main(process.argv.slice(2)).catch((err) => {
  console.error(err);
  process.exit(1);
});

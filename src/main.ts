import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildBackend } from './backend/backend.ts';
import { buildCarrier } from './carrier/carrier.ts';
import { ConfigError, loadConfig, type Config } from './config/config.ts';
import { loadSecrets, type Secrets } from './config/secrets.ts';
import { seedBackend, seedPayserver } from './demo/seed.ts';
import { systemClock } from './lib/clock.ts';
import { openDatabase } from './lib/db/open-database.ts';
import { cryptoRandom } from './lib/ids.ts';
import { createLogger } from './lib/log.ts';
import type { RunningParts } from './lib/service/service.ts';
import { buildPayserver } from './payserver/payserver.ts';
import { KannelSmsGateway } from './sms/kannel-gateway.ts';

type Part = 'backend' | 'payserver' | 'carrier';
const ALL: Part[] = ['carrier', 'payserver', 'backend'];

function gatewayFor(config: Readonly<Config>, secrets: Secrets, serviceUrl: string) {
  return new KannelSmsGateway({
    url: config.sms.kannel.url,
    user: config.sms.kannel.user,
    password: secrets.carrierPassword,
    dlrUrl: (ref) => `${serviceUrl}/v1/sms/dlr?token=${encodeURIComponent(secrets.smsInboundToken)}&id=${encodeURIComponent(ref)}&status=%d`,
  });
}

const isFresh = (target: string) => !/^postgres/.test(target) && !existsSync(target);

/** Starts one service or all three in this process; stops them gracefully on SIGTERM/SIGINT. */
async function main(argv: string[]): Promise<void> {
  const which = (argv[0] ?? 'all') as Part | 'all';
  if (which !== 'all' && !ALL.includes(which)) {
    console.error(`Usage: tvpay [all|backend|payserver|carrier]`);
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
  const parts = which === 'all' ? ALL : [which];
  const { secrets, created } = loadSecrets(config);
  const log = createLogger(config.logLevel);
  const clock = systemClock;
  const random = cryptoRandom;
  const running: RunningParts[] = [];
  const banner: string[] = [];

  for (const part of parts) {
    if (part === 'carrier') {
      if (config.sms.mode !== 'dev') continue;
      const carrier = await buildCarrier({ config, secrets, store: openDatabase(config.carrierDatabase), clock, random, log: log.child({ service: 'carrier' }) });
      await carrier.app.listen({ host: config.host, port: config.ports.carrier });
      running.push(carrier);
      banner.push(`development SMS carrier  ${config.publicUrls.carrier}/dev/phones/8613800138000`);
    }
    if (part === 'payserver') {
      const fresh = isFresh(config.payserverDatabase);
      const payserver = await buildPayserver({
        config, secrets, clock, random,
        store: openDatabase(config.payserverDatabase, config.dbPoolSize),
        gateway: gatewayFor(config, secrets, config.internalUrls.payserver),
        log: log.child({ service: 'payserver' }),
      });
      if (fresh) await seedPayserver(payserver.services.accounts);
      await payserver.app.listen({ host: config.host, port: config.ports.payserver });
      payserver.start();
      running.push(payserver);
      banner.push(`payment server           ${config.publicUrls.payserver}`);
    }
    if (part === 'backend') {
      const fresh = isFresh(config.backendDatabase);
      const backend = await buildBackend({
        config, secrets, clock, random,
        store: openDatabase(config.backendDatabase, config.dbPoolSize),
        gateway: gatewayFor(config, secrets, config.internalUrls.backend),
        log: log.child({ service: 'backend' }),
      });
      if (fresh) {
        const demo = await seedBackend(backend.services.products, backend.services.devices);
        writeFileSync(join(config.dataDir, 'demo-device-token'), `${demo.token}\n`, { mode: 0o600 });
        banner.push(`demo TV device token     ${demo.token}   (also in ${join(config.dataDir, 'demo-device-token')})`);
      }
      await backend.app.listen({ host: config.host, port: config.ports.backend });
      backend.start();
      running.push(backend);
      banner.push(`back-end server          ${config.publicUrls.backend}`);
    }
  }
  if (created) {
    banner.push(`admin token              ${secrets.adminToken}   (shown once; kept in ${join(config.dataDir, 'secrets.json')})`);
    banner.push(`SMS inbound token        ${secrets.smsInboundToken}`);
  }
  process.stdout.write(`\ntvpay is running (${parts.join(', ')})\n${banner.map((l) => `  ${l}`).join('\n')}\n\n`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    for (const r of running.reverse()) await r.close().catch((err) => log.error({ err }, 'close failed'));
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main(process.argv.slice(2)).catch((err) => {
  console.error(err);
  process.exit(1);
});

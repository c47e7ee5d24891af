import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildBackend } from './backend/backend.ts';
import { buildCarrier } from './carrier/carrier.ts';
import type { Config } from './config/config.ts';
import type { Secrets } from './config/secrets.ts';
import { seedBackend, seedPayserver } from './demo/seed.ts';
import type { Clock } from './lib/clock.ts';
import { openDatabase } from './lib/db/open-database.ts';
import type { RandomSource } from './lib/ids.ts';
import type { Log } from './lib/log.ts';
import { buildPayserver } from './payserver/payserver.ts';
import { KannelSmsGateway } from './sms/kannel-gateway.ts';

const lostConnection = (log: Log) => (err: Error) => log.warn({ err: err.message }, 'an idle database connection was lost; it will be replaced');

export type Part = 'backend' | 'payserver' | 'carrier';
export const ALL_PARTS: Part[] = ['carrier', 'payserver', 'backend'];

export interface SystemDeps {
  config: Readonly<Config>;
  secrets: Secrets;
  clock: Clock;
  random: RandomSource;
  log: Log;
}

function gatewayFor(config: Readonly<Config>, secrets: Secrets, serviceUrl: string) {
  return new KannelSmsGateway({
    url: config.sms.kannel.url,
    user: config.sms.kannel.user,
    password: secrets.carrierPassword,
    dlrUrl: (ref) => `${serviceUrl}/v1/sms/dlr?token=${encodeURIComponent(secrets.smsInboundToken)}&id=${encodeURIComponent(ref)}&status=%d`,
  });
}


/**
 * Builds, listens and starts the chosen services (all three for `npm start`),
 * seeding demo data into stores that did not exist yet. Returns the running
 * parts, a banner for the console and a graceful `close`.
 */
export async function startSystem(deps: SystemDeps, parts: Part[] = ALL_PARTS, options: { seed?: boolean } = {}) {
  const { config, secrets, clock, random, log } = deps;
  const banner: string[] = [];
  const running: Array<{ close(): Promise<void> }> = [];
  let carrier: Awaited<ReturnType<typeof buildCarrier>> | undefined;
  let payserver: Awaited<ReturnType<typeof buildPayserver>> | undefined;
  let backend: Awaited<ReturnType<typeof buildBackend>> | undefined;
  let demoDeviceToken: string | undefined;
  const seed = options.seed ?? true;

  if (parts.includes('carrier') && config.sms.mode === 'dev') {
    carrier = await buildCarrier({ config, secrets, store: openDatabase(config.carrierDatabase), clock, random, log: log.child({ service: 'carrier' }) });
    await carrier.app.listen({ host: config.host, port: config.ports.carrier });
    running.push(carrier);
    banner.push(`development SMS carrier  ${config.publicUrls.carrier}/dev/phones/8613800138000`);
  }
  if (parts.includes('payserver')) {
    payserver = await buildPayserver({
      config, secrets, clock, random,
      store: openDatabase(config.payserverDatabase, config.dbPoolSize, lostConnection(log)),
      gateway: gatewayFor(config, secrets, config.internalUrls.payserver),
      log: log.child({ service: 'payserver' }),
    });
    if (payserver.fresh && seed) await seedPayserver(payserver.services.accounts);
    await payserver.app.listen({ host: config.host, port: config.ports.payserver });
    payserver.start();
    running.push(payserver);
    banner.push(`payment server           ${config.publicUrls.payserver}`);
  }
  if (parts.includes('backend')) {
    backend = await buildBackend({
      config, secrets, clock, random,
      store: openDatabase(config.backendDatabase, config.dbPoolSize, lostConnection(log)),
      gateway: gatewayFor(config, secrets, config.internalUrls.backend),
      log: log.child({ service: 'backend' }),
    });
    if (backend.fresh && seed) {
      const demo = await seedBackend(backend.services.products, backend.services.devices);
      demoDeviceToken = demo.token;
      writeFileSync(join(config.dataDir, 'demo-device-token'), `${demo.token}\n`, { mode: 0o600 });
      banner.push(`demo TV device token     ${demo.token}   (kept in ${join(config.dataDir, 'demo-device-token')})`);
      banner.push(`demo TV app              ${config.publicUrls.backend}/tv/#device=${demo.token}`);
    }
    await backend.app.listen({ host: config.host, port: config.ports.backend });
    backend.start();
    running.push(backend);
    banner.push(`back-end server          ${config.publicUrls.backend}`);
  }

  return {
    carrier,
    payserver,
    backend,
    demoDeviceToken,
    banner,
    /** Stops everything in reverse order: workers first, then HTTP, then the stores. */
    async close() {
      for (const r of [...running].reverse()) await r.close().catch((err) => log.error({ err }, 'close failed'));
    },
  };
}

import type { TestClock } from './lib/http/test-clock-routes.ts';
import type { FastifyInstance } from 'fastify';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildBackend } from './backend/backend.ts';
import { buildCarrier } from './carrier/carrier.ts';
import type { Config } from './config/config.ts';
import type { Secrets } from './config/secrets.ts';
import { seedBackend, seedPayserver } from './demo/seed.ts';
import type { Clock } from './lib/clock.ts';
import { openDatabase, type PostgresOptions } from './lib/db/open-database.ts';
import { httpCall } from './lib/http/http-client.ts';
import { httpTransport, inProcessTransport } from './lib/http/peer-transport.ts';
import type { RandomSource } from './lib/ids.ts';
import type { Log } from './lib/log.ts';
import { buildPayserver } from './payserver/payserver.ts';
import { KannelSmsGateway } from './sms/kannel-gateway.ts';
import { SmppSmsGateway } from './sms/smpp-gateway.ts';
import { DeferredInbox, type SmsInbox } from './sms/deferred-inbox.ts';
import { StartError } from './lib/start-error.ts';
import type { Rail } from './payserver/rails/rail.ts';
import { railRegistry } from './payserver/rails/registry.ts';
import { buildRails } from './payserver/rails/build-rails.ts';
import { buildDevAlipay } from './dev-rails/alipay/index.ts';
import { buildDevWechatpay } from './dev-rails/wechatpay/dev-wechatpay.ts';

/** A phone's SMS that reached the back-end's SMS link belongs to the payment server (codes go there). */
function forwardToPayserver(config: Readonly<Config>, secrets: Secrets, log: Log) {
  return async (sms: { from: string; to: string; text: string }) => {
    const q = new URLSearchParams({ token: secrets.smsInboundToken, from: sms.from, to: sms.to, text: sms.text });
    const res = await httpCall(`${config.internalUrls.payserver}/v1/sms/inbound?${q}`, { timeoutMs: 10_000 });
    if (!res.ok) log.warn({ status: res.status }, 'the payment server did not take a forwarded SMS');
  };
}

/**
 * The development Alipay and WeChat Pay of the rails that are `dev`, mounted on the development carrier's
 * server (`/dev/alipay/…`, `/dev/wechatpay/…`): their cashier and scan pages are reached at its public URL.
 */
async function mountDevRails(
  app: FastifyInstance,
  rails: ReadonlyArray<'alipay' | 'wechatpay'>,
  deps: { config: Readonly<Config>; clock: Clock; random: RandomSource; log: Log },
): Promise<Array<{ close(): Promise<void> }>> {
  const common = {
    dataDir: deps.config.dataDir,
    clock: deps.clock,
    random: deps.random,
    publicUrl: deps.config.publicUrls.carrier,
  };
  const mounted: Array<{ close(): Promise<void> }> = [];
  if (rails.includes('alipay')) {
    const dev = await buildDevAlipay({ ...common, log: deps.log.child({ service: 'dev-alipay' }) });
    dev.routes(app);
    mounted.push(dev);
  }
  if (rails.includes('wechatpay')) {
    const dev = buildDevWechatpay({ ...common, log: deps.log.child({ service: 'dev-wechatpay' }) });
    dev.routes(app);
    mounted.push(dev);
  }
  return mounted;
}

const lostConnection = (log: Log) => (err: Error) =>
  log.warn({ err: err.message }, 'a database connection was lost; the pool replaces it');

/** A service store's PostgreSQL settings. */
const postgresOptions = (config: Readonly<Config>, onIdleError: (err: Error) => void): PostgresOptions => ({
  poolSize: config.dbPoolSize,
  preparedStatements: config.dbPreparedStatements,
  onIdleError,
});

export type Part = 'backend' | 'payserver' | 'carrier';
export const ALL_PARTS: Part[] = ['carrier', 'payserver', 'backend'];

export interface SystemDeps {
  config: Readonly<Config>;
  secrets: Secrets;
  clock: Clock;
  random: RandomSource;
  log: Log;
}

/**
 * The service's SMS gateway: an SMPP transceiver bind of its own with
 * TVPAY_SMS=smpp, else Kannel's sendsms interface (a real Kannel, or the
 * development carrier that speaks it).
 */
function gatewayFor(config: Readonly<Config>, secrets: Secrets, serviceUrl: string, log: Log, inbox: SmsInbox) {
  if (config.sms.mode === 'smpp') {
    const gateway = new SmppSmsGateway({
      url: config.sms.smppUrl!,
      log,
      onMessage: (sms) => inbox.message(sms),
      onReceipt: (ref, status) => inbox.receipt(ref, status),
    });
    gateway.start();
    return gateway;
  }
  return new KannelSmsGateway({
    url: config.sms.kannel.url,
    user: config.sms.kannel.user,
    password: secrets.sendsmsPassword,
    dlrUrl: (ref) =>
      `${serviceUrl}/v1/sms/dlr?token=${encodeURIComponent(secrets.smsInboundToken)}` +
      `&id=${encodeURIComponent(ref)}&status=%d`,
  });
}

export { StartError };

/** Listens, turning "address in use" into one line naming the service, the port and the variable that moves it. */
async function listen(
  app: FastifyInstance,
  service: string,
  host: string,
  port: number,
  variable: string,
): Promise<void> {
  try {
    await app.listen({ host, port });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'EADDRINUSE')
      throw new StartError(
        `The ${service} cannot listen on ${host}:${port}: the port is in use by another program. ` +
          `Stop it, or choose another port with ${variable}.`,
      );
    if (code === 'EACCES')
      throw new StartError(
        `The ${service} may not listen on ${host}:${port}. Choose a port above 1023 with ${variable}.`,
      );
    if (code === 'EADDRNOTAVAIL')
      throw new StartError(
        `The ${service} cannot listen on ${host}: this machine has no such address. ` +
          `Set TVPAY_HOST to one of its addresses.`,
      );
    throw err;
  }
}

/** What starting the services shares: what they are built from, what runs, and the banner being written. */
interface Start {
  deps: SystemDeps;
  parts: Part[];
  seed: boolean;
  testClock: TestClock | undefined;
  banner: string[];
  running: Array<{ close(cutConnectionsAt?: number): Promise<void> }>;
  /** A peer running in this process, handed messages without the loopback socket (undefined: over HTTP). */
  peerApp: (part: Part) => () => FastifyInstance | undefined;
}

/**
 * Builds, listens and starts the chosen services (all three for `npm start`),
 * seeding demo data into stores that did not exist yet. Returns the running
 * parts, a banner for the console and a graceful `close`.
 */
export async function startSystem(
  deps: SystemDeps,
  parts: Part[] = ALL_PARTS,
  options: { seed?: boolean; inProcess?: boolean; rails?: readonly Rail[] } = {},
) {
  const { config, clock, log } = deps;
  const apps: { payserver?: FastifyInstance; backend?: FastifyInstance } = {};
  // Services that run in this process hand each other their messages without the loopback socket;
  // a peer not (or not yet) running here is reached over HTTP at its internal URL.
  const inProcess = options.inProcess ?? true;
  // TVPAY_TEST_CLOCK=1: the one clock of the process, shared by every service, which operators move forward.
  const testClock = config.testClock && 'advance' in clock ? (clock as TestClock) : undefined;
  const start: Start = {
    deps,
    parts,
    seed: options.seed ?? true,
    testClock,
    banner: [],
    running: [],
    peerApp: (part) => () =>
      inProcess && parts.includes(part) ? (part === 'backend' ? apps.backend : apps.payserver) : undefined,
  };
  if (testClock)
    start.banner.push(
      '!!! TEST CLOCK ON (TVPAY_TEST_CLOCK=1): POST /admin/v1/test-clock moves time forward. ' +
        'Never run real payments like this. !!!',
    );
  const carrier = await startCarrier(start);
  const payserver = parts.includes('payserver') ? await startPayserver(start, options.rails) : undefined;
  apps.payserver = payserver?.app;
  const started = parts.includes('backend') ? await startBackend(start, apps) : undefined;
  const { running, banner } = start;
  return {
    carrier,
    payserver,
    backend: started?.backend,
    demoDeviceToken: started?.demoDeviceToken,
    banner,
    /**
     * Stops everything in reverse order: each service stops taking requests, then its workers, then its
     * store. HTTP connections still open at `cutConnectionsAt` (epoch ms) are cut (lib/service/shutdown.ts).
     */
    async close(cutConnectionsAt?: number) {
      for (const r of [...running].reverse())
        await r.close(cutConnectionsAt).catch((err) => log.error({ err }, 'close failed'));
    },
  };
}

/** The development carrier, with the development rails on its server, when SMS or a rail is `dev`. */
async function startCarrier(start: Start) {
  const { config } = start.deps;
  const devRails = (['alipay', 'wechatpay'] as const).filter((r) => config.rails[r].mode === 'dev');
  const wanted = start.parts.includes('carrier') && (config.sms.mode === 'dev' || devRails.length > 0);
  const carrier = wanted ? await listenCarrier(start, devRails) : undefined;
  if (start.parts.includes('payserver') && devRails.length > 0)
    start.banner.push(
      `!!! DEVELOPMENT MONEY RAILS (${devRails.map((r) => `TVPAY_${r.toUpperCase()}=dev`).join(', ')}): ` +
        `no real money moves. !!!`,
    );
  return carrier;
}

async function listenCarrier(start: Start, devRails: ReadonlyArray<'alipay' | 'wechatpay'>) {
  const { config, secrets, clock, random, log } = start.deps;
  const carrier = await buildCarrier({
    config,
    secrets,
    store: openDatabase(config.carrierDatabase),
    clock,
    random,
    log: log.child({ service: 'carrier' }),
  });
  const gateways = await mountDevRails(carrier.app, devRails, { config, clock, random, log });
  await listen(carrier.app, 'development SMS carrier', config.host, config.ports.carrier, 'TVPAY_CARRIER_PORT');
  start.running.push(carrier, ...gateways);
  start.banner.push(`development SMS carrier  ${config.publicUrls.carrier}/dev/phones/8613800138000`);
  return carrier;
}

/**
 * What the back-end and the payment server are both built from: the process's config, secrets, clock and
 * randomness, the test clock, its own logger, and its SMS gateway (whose inbound side is `inbox`).
 */
function serviceParts(start: Start, service: 'backend' | 'payserver', inbox: DeferredInbox) {
  const { config, secrets, clock, random, log } = start.deps;
  const gateway = gatewayFor(config, secrets, config.internalUrls[service], log.child({ service, part: 'sms' }), inbox);
  const parts = {
    config,
    secrets,
    clock,
    random,
    gateway,
    testClock: start.testClock,
    log: log.child({ service }),
  };
  return { gateway, parts };
}

/**
 * The payment server: its SMS gateway (replies and receipts reach it once it is built), the rails, the demo wallets.
 */
async function startPayserver(start: Start, rails: readonly Rail[] | undefined) {
  const { config, clock } = start.deps;
  const inbox = new DeferredInbox();
  const { gateway, parts } = serviceParts(start, 'payserver', inbox);
  const payserver = await buildPayserver({
    ...parts,
    store: openDatabase(config.payserverDatabase, postgresOptions(config, lostConnection(start.deps.log))),
    rails: railRegistry(rails ?? buildRails(config, clock)),
    backend: inProcessTransport(start.peerApp('backend'), httpTransport(config.internalUrls.backend)),
  });
  const sms = payserver.services.sms;
  await inbox.attach({
    message: async ({ from, text }) => void (await sms.reply(from, text)),
    receipt: (gatewayId, status) => sms.receipt(gatewayId, status),
  });
  if (gateway instanceof SmppSmsGateway) start.running.push({ close: () => gateway.stop() });
  if (payserver.storeCreated && start.seed) await seedPayserver(payserver.services.accounts);
  await listen(payserver.app, 'payment server', config.host, config.ports.payserver, 'TVPAY_PAYSERVER_PORT');
  payserver.start();
  start.running.push(payserver);
  start.banner.push(`payment server           ${config.publicUrls.payserver}`);
  start.banner.push(`payment server console   ${config.publicUrls.payserver}/console/`);
  return payserver;
}

/** The back-end: its SMS gateway (phones' replies forwarded to the payment server), the demo TV and catalogue. */
async function startBackend(start: Start, apps: { backend?: FastifyInstance }) {
  const { config, secrets, log } = start.deps;
  // Phones' replies reach the payment server whatever the back-end's state; receipts wait for it.
  const inbox = new DeferredInbox({ message: forwardToPayserver(config, secrets, log) });
  const { gateway, parts } = serviceParts(start, 'backend', inbox);
  const backend = await buildBackend({
    ...parts,
    store: openDatabase(config.backendDatabase, postgresOptions(config, lostConnection(log))),
    payserver: inProcessTransport(start.peerApp('payserver'), httpTransport(config.internalUrls.payserver)),
  });
  apps.backend = backend.app;
  const sms = backend.services.sms;
  await inbox.attach({ receipt: (gatewayId, status) => sms.receipt(gatewayId, status) });
  if (gateway instanceof SmppSmsGateway) start.running.push({ close: () => gateway.stop() });
  const demoDeviceToken = await seedDemoTv(start, backend);
  await listen(backend.app, 'back-end server', config.host, config.ports.backend, 'TVPAY_BACKEND_PORT');
  backend.start();
  start.running.push(backend);
  start.banner.push(`back-end server          ${config.publicUrls.backend}`);
  start.banner.push(`back-end console         ${config.publicUrls.backend}/console/`);
  return { backend, demoDeviceToken };
}

/** On a new store, the demo catalogue and TV (its token printed once, kept in the data dir); after it, where it is. */
async function seedDemoTv(start: Start, backend: Awaited<ReturnType<typeof buildBackend>>) {
  const { config } = start.deps;
  const kept = join(config.dataDir, 'demo-device-token');
  if (!start.seed) return undefined;
  if (!backend.storeCreated) {
    // The token is printed on the first start only; after it, say where it is kept.
    start.banner.push(`demo TV app              ${config.publicUrls.backend}/tv/#device=<the token in ${kept}>`);
    return undefined;
  }
  const demo = await seedBackend(backend.services.products, backend.services.devices);
  writeFileSync(kept, `${demo.token}\n`, { mode: 0o600 });
  start.banner.push(`demo TV device token     ${demo.token}   (kept in ${kept})`);
  start.banner.push(`demo TV app              ${config.publicUrls.backend}/tv/#device=${demo.token}`);
  return demo.token;
}

/**
 * The banner's lines about the secrets: on the first start (they were just
 * created) the admin and SMS inbound tokens, shown this once; after it, only
 * where they are kept, since a console's scrollback is no place for them.
 */
export function secretsBanner(config: Readonly<Config>, secrets: Secrets, created: boolean): string[] {
  const kept = join(config.dataDir, 'secrets.json');
  if (!created) return [`admin token              kept in ${kept} (shown on the first start only)`];
  return [
    `admin token              ${secrets.adminToken}   (shown once; kept in ${kept})`,
    `SMS inbound token        ${secrets.smsInboundToken}`,
  ];
}

import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../lib/clock.ts';
import { migrate } from '../../lib/db/migrate.ts';
import { openDatabase } from '../../lib/db/open-database.ts';
import type { RandomSource } from '../../lib/ids.ts';
import type { Log } from '../../lib/log.ts';
import { ensureDevAlipayKeys, type DevAlipayKeys } from './keys.ts';
import { DevNotifier } from './notifier.ts';
import { devAlipayRoutes, PREFIX } from './routes.ts';
import type { DevAlipayTables } from './schema.ts';
import { devAlipayMigrations } from './migrations/index.ts';
import { DevAlipayService } from './service.ts';
import { DevAlipayStore } from './store.ts';

export { ensureDevAlipayKeys, type DevAlipayKeys } from './keys.ts';
export { NO_REAL_MONEY } from './pages.ts';
export { DEFAULT_AGREEMENT_BALANCE_FEN } from './service.ts';

export interface DevAlipay {
  /** Mounts the gateway, cashier, scan page and bill downloads under `/dev/alipay` on the given app. */
  routes(app: FastifyInstance): void;
  /** What the payment server's rail needs (`gateway`, `appId`, `appPrivateKeyPem`, `alipayPublicKeyPem`) and more. */
  keys: DevAlipayKeys & { gateway: string };
  /** Stops the timer and closes the store. */
  close(): Promise<void>;
  /** Closes expired trades and delivers every notification due now (the timer does this every second). */
  deliverNotifications(): Promise<number>;
  /** The store, for tests and the demo's inspection. */
  store: DevAlipayStore;
}

/**
 * The development Alipay: an in-process stand-in for Alipay's OpenAPI 2.0 gateway that the unchanged
 * alipay-sdk accepts. Its keys live in `<dataDir>/dev-alipay/`, its state in `<dataDir>/dev-alipay.db`;
 * a timer reads the injected clock every second to expire trades and retry notifications.
 */
export async function buildDevAlipay(deps: {
  dataDir: string;
  clock: Clock;
  random: RandomSource;
  log: Log;
  /** Where the routes are reached from outside, without a trailing slash (e.g. `http://127.0.0.1:8082`). */
  publicUrl: string;
  /** The merchant app's public key when it is not the one generated in the data dir. */
  appPublicKeyPem?: string;
}): Promise<DevAlipay> {
  const keys = ensureDevAlipayKeys(deps.dataDir);
  const handle = openDatabase<DevAlipayTables>(join(deps.dataDir, 'dev-alipay.db'));
  await migrate(handle.db, devAlipayMigrations);
  const store = new DevAlipayStore(handle.db);
  const publicUrl = deps.publicUrl.replace(/\/+$/, '');
  const notifier = new DevNotifier({
    ...deps,
    store,
    appId: keys.appId,
    alipayPrivateKeyPem: keys.alipayPrivateKeyPem,
  });
  const service = new DevAlipayService({
    store,
    notifier,
    clock: deps.clock,
    random: deps.random,
    appId: keys.appId,
    appPublicKeyPem: deps.appPublicKeyPem ?? keys.appPublicKeyPem,
    publicUrl,
  });
  const sweep = async () => {
    await service.closeExpired();
    return notifier.deliverDue();
  };
  let sweeping = false;
  const timer = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    sweep()
      .catch((err: unknown) => deps.log.error({ err }, 'dev Alipay sweep failed'))
      .finally(() => (sweeping = false));
  }, 1000);
  timer.unref();
  return {
    routes: (app) => devAlipayRoutes(app, service, keys),
    keys: { ...keys, gateway: `${publicUrl}${PREFIX}/gateway.do` },
    store,
    deliverNotifications: sweep,
    async close() {
      clearInterval(timer);
      await notifier.idle();
      await handle.close();
    },
  };
}

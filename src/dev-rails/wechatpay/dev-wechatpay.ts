/**
 * The development WeChat Pay: an in-process stand-in that behaves like API v3 closely enough that the
 * unchanged `wechatpay-axios-plugin` accepts it. It has its own keys (keys.ts) and store
 * (`<dataDir>/dev-wechatpay.db`), verifies every request's signature, signs every answer, serves the
 * cashier, scan and signing pages, completes papay charges and refunds by itself and sends signed,
 * encrypted notifications, retried on WeChat Pay's schedule against the injected clock. No real money.
 *
 * Development knobs (documented on the pages): a contract's payer balance, in fen, is chosen when
 * signing (¥1000.00 unless changed) and can be set with `POST /dev/wechatpay/contracts/{contract_id}/balance`
 * (form or JSON `balance_fen`); a papay charge above it is refused with 403 `NOT_ENOUGH`.
 */
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../lib/clock.ts';
import { migrate } from '../../lib/db/migrate.ts';
import { openDatabase } from '../../lib/db/open-database.ts';
import type { RandomSource } from '../../lib/ids.ts';
import type { Log } from '../../lib/log.ts';
import { apiRoutes } from './api-routes.ts';
import { ensureDevWechatpayKeys, type DevWechatpayKeys } from './keys.ts';
import { pageRoutes } from './pages.ts';
import type { DevWechatpayTables } from './schema.ts';
import { devWechatpayMigrations } from './migrations/index.ts';
import { DevWechatpayService } from './service.ts';
import { DevWechatpayStore } from './store.ts';

/** Where the gateway is mounted on the development carrier's server. */
export const DEV_WECHATPAY_PREFIX = '/dev/wechatpay';

export interface DevWechatpay {
  /** Mounts API v3 and the pages under `/dev/wechatpay/` on `app`. */
  routes(app: FastifyInstance): void;
  /** Both sides' keys and ids: the rail is configured from these in `dev`. */
  keys: DevWechatpayKeys;
  /** Stops the notifier and closes the store. */
  close(): Promise<void>;
}

/**
 * Builds the development WeChat Pay. `publicUrl` is the origin the carrier is reached at (no trailing
 * slash): pages, `h5_url`s and bill downloads are under `<publicUrl>/dev/wechatpay/`.
 */
export function buildDevWechatpay(deps: {
  dataDir: string;
  clock: Clock;
  random: RandomSource;
  log: Log;
  publicUrl: string;
}): DevWechatpay {
  const keys = ensureDevWechatpayKeys(deps.dataDir);
  const handle = openDatabase<DevWechatpayTables>(join(deps.dataDir, 'dev-wechatpay.db'));
  const ready = migrate(handle.db, devWechatpayMigrations);
  ready.catch((err) => deps.log.error({ err }, 'dev WeChat Pay store did not migrate'));
  const publicUrl = deps.publicUrl.replace(/\/+$/, '');
  const service = new DevWechatpayService({
    store: new DevWechatpayStore(handle.db),
    keys,
    clock: deps.clock,
    random: deps.random,
    log: deps.log,
    publicUrl,
  });
  let running: Promise<void> | undefined;
  let closed = false;
  // A 1 s timer that reads the injected clock: a test (or a shifted clock) moves time, the timer notices.
  const timer = setInterval(() => {
    if (running || closed) return;
    running = (async () => {
      await ready;
      await service.completeAccepted();
      await service.deliverDue();
    })()
      .catch((err) => deps.log.error({ err }, 'dev WeChat Pay background work failed'))
      .finally(() => (running = undefined));
  }, 1000);
  timer.unref();
  return {
    keys,
    routes(app) {
      app.register(
        async (scope) => {
          await ready;
          apiRoutes(scope, service, keys);
          pageRoutes(scope, service, publicUrl);
        },
        { prefix: DEV_WECHATPAY_PREFIX },
      );
    },
    async close() {
      closed = true;
      clearInterval(timer);
      await running;
      await ready.catch(() => undefined);
      await handle.close();
    },
  };
}

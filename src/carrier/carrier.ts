import type { Config } from '../config/config.ts';
import type { Secrets } from '../config/secrets.ts';
import type { Clock } from '../lib/clock.ts';
import { migrate } from '../lib/db/migrate.ts';
import { storageAnswers } from '../lib/db/storage-answers.ts';
import type { DatabaseHandle } from '../lib/db/open-database.ts';
import { createApp } from '../lib/http/create-app.ts';
import type { RandomSource } from '../lib/ids.ts';
import type { Log } from '../lib/log.ts';
import type { ServiceParts } from '../lib/service/service.ts';
import { carrierRoutes } from './carrier-routes.ts';
import { CarrierService } from './carrier-service.ts';
import type { CarrierTables } from './schema.ts';
import { carrierMigrations } from './migrations/index.ts';
import { closeHttp } from '../lib/service/shutdown.ts';

/** Builds the development SMS carrier (the embedded default's phone network). */
export async function buildCarrier(deps: {
  config: Readonly<Config>;
  secrets: Secrets;
  store: DatabaseHandle<CarrierTables>;
  clock: Clock;
  random: RandomSource;
  log: Log;
}) {
  const { config, secrets } = deps;
  await migrate(deps.store.db, carrierMigrations);
  const inbound =
    `${config.internalUrls.payserver}/v1/sms/inbound?token=${encodeURIComponent(secrets.smsInboundToken)}` +
    `&from=%p&to=%P&text=%a`;
  const carrier = new CarrierService({
    db: deps.store.db,
    random: deps.random,
    clock: deps.clock,
    log: deps.log,
    routes: { [config.sms.payserverFrom]: inbound },
    defaultReplyTo: config.sms.payserverFrom,
  });
  await carrier.init();
  const app = await createApp({
    log: deps.log,
    title: 'tvpay development SMS carrier',
    ready: () => storageAnswers(deps.store.db),
  });
  carrierRoutes(
    app,
    carrier,
    { user: config.sms.kannel.user, password: secrets.sendsmsPassword },
    { scanners: { alipay: config.rails.alipay.mode === 'dev', wechatpay: config.rails.wechatpay.mode === 'dev' } },
  );
  const parts: ServiceParts & { carrier: CarrierService; db: typeof deps.store.db } = {
    app,
    carrier,
    db: deps.store.db,
    start() {},
    async sweep() {},
    async close(cutConnectionsAt = Date.now() + 10_000) {
      await closeHttp(app, cutConnectionsAt);
      await deps.store.close();
    },
  };
  return parts;
}

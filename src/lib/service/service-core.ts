import type { Kysely, Migration } from 'kysely';
import type { Config } from '../../config/config.ts';
import type { Clock } from '../clock.ts';
import type { CommonTables } from '../db/common-tables.ts';
import { migrate } from '../db/migrate.ts';
import type { DatabaseHandle } from '../db/open-database.ts';
import { PRUNE_BATCH, pruneExpired } from '../db/retention.ts';
import { storageAnswers } from '../db/storage-answers.ts';
import { createApp } from '../http/create-app.ts';
import { idempotencyHooks } from '../http/idempotency.ts';
import { pruneNonces } from '../http/service-auth.ts';
import type { Log } from '../log.ts';
import { OutboxWorker } from '../outbox/outbox-worker.ts';
import { RateLimiter } from '../rate-limiter.ts';
import { Sweeper } from './sweeper.ts';
import type { ServiceParts } from './service-parts.ts';
import { unitOfWork, type UnitOfWork } from '../db/unit-of-work.ts';
import { serviceMetrics, type Count } from '../metrics/service-metrics.ts';

/** How often (by the service's clock) the sweeper prunes what only grows: limits, nonces, finished records. */
const PRUNE_EVERY_MS = 60_000;

/**
 * What the back-end and the payment server both start from, built in this
 * order: the store migrated, the tables every service shares, the outbox
 * worker, the rate limiter, the HTTP app with its readiness check and the
 * idempotency hooks, and a sweeper that runs the service's own housekeeping
 * before the shared pruning.
 */
export async function serviceCore<DB>(deps: {
  store: DatabaseHandle<DB>;
  migrations: Record<string, Migration>;
  config: Readonly<Config>;
  clock: Clock;
  log: Log;
  title: string;
  /** The service's name in its metrics' `service` label. */
  service: string;
  /**
   * Topics delivered by workers of their own, each with its own slots, so
   * that they never take the slots of a viewer's checkout (the SMS and the
   * messages between the services): webhooks to the operator's systems,
   * which may answer slowly or not at all, and background work that comes
   * in floods, such as a renewal day's charges.
   */
  lanes?: ReadonlyArray<{ topics: readonly string[]; batch: number }>;
}) {
  const { store, config, clock, log } = deps;
  const db = store.db;
  /** The same database, seen through the tables every service shares (outbox, limits, keys, nonces, SMS log). */
  const shared = db as unknown as Kysely<CommonTables>;
  const { storeCreated } = await migrate(db, deps.migrations);
  const lanes = deps.lanes ?? [];
  const apart = lanes.flatMap((l) => l.topics);
  // The metrics are made with the app, below; a message is given up only once the workers run.
  const count: Count = (e) => metrics.count(e);
  const maxAttempts = config.outboxMaxAttempts;
  const worker = new OutboxWorker(shared, clock, log, {
    dialect: store.dialect,
    count,
    maxAttempts,
    ...(apart.length ? { topics: { except: apart } } : {}),
  });
  const laneWorkers = lanes.map(
    (l) =>
      new OutboxWorker(shared, clock, log, {
        dialect: store.dialect,
        batch: l.batch,
        topics: { only: l.topics },
        count,
        maxAttempts,
      }),
  );
  const limiter = new RateLimiter(shared, clock);
  const app = await createApp({
    log,
    title: deps.title,
    ready: () => storageAnswers(db),
    trustProxy: config.trustProxy,
  });
  // Before any route, so that the request-duration hook sees every one.
  const metrics = serviceMetrics(app, shared, clock, deps.service);
  store.onCommit(metrics.observeCommit);
  const idem = idempotencyHooks(shared, clock, config.retention);
  /**
   * The service's housekeeping every second: its own pass, then the shared pruning (and its own retained
   * tables). The pruning only once a minute of the service's clock (or again at once while a batch came
   * back full): what it deletes is hours and days old, and its ten statements every second were a checkout's
   * worth of statements at a few checkouts a second (issue 30).
   */
  let prunedAt = Number.NEGATIVE_INFINITY;
  let pruneBacklog = false;
  const sweeper = (own: () => Promise<unknown>, retained: Array<{ table: string; key: string; dated: string }>) =>
    new Sweeper(
      async () => {
        await own();
        const now = clock.now().getTime();
        if (!pruneBacklog && now - prunedAt < PRUNE_EVERY_MS) return;
        prunedAt = now;
        await limiter.prune();
        await pruneNonces(shared, clock);
        pruneBacklog = (await pruneExpired(shared, clock, config.retention, retained)) >= PRUNE_BATCH;
      },
      1000,
      log,
    );
  const kick = () => {
    worker.kick();
    for (const w of laneWorkers) w.kick();
  };
  return { db, shared, storeCreated, worker, laneWorkers, kick, limiter, app, idem, sweeper, metrics };
}

/**
 * The parts of a service's core that come from its service core and the process alike in both services: the
 * store (with its shared tables and its units of work, which wake the outbox workers), the limiter, the
 * metrics' counts, and the process's configuration, secrets, clock, ids and SMS gateway.
 */
export function coreParts<DB>(
  service: Pick<Awaited<ReturnType<typeof serviceCore<DB>>>, 'db' | 'shared' | 'limiter' | 'metrics' | 'kick'>,
  deps: Pick<ServiceParts<unknown>, 'config' | 'secrets' | 'clock' | 'random' | 'gateway'>,
): ServiceParts<Kysely<DB>> & { work: UnitOfWork<DB> } {
  return {
    db: service.db,
    shared: service.shared,
    config: deps.config,
    secrets: deps.secrets,
    clock: deps.clock,
    random: deps.random,
    gateway: deps.gateway,
    limiter: service.limiter,
    count: service.metrics.count,
    work: unitOfWork(service.db, service.kick),
  };
}

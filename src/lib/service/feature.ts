import type { FastifyInstance } from 'fastify';
import { requireAdmin } from '../auth.ts';
import { authenticatedScope } from '../http/scope.ts';
import { testClockRoutes, type TestClock } from '../http/test-clock-routes.ts';
import type { StoreGauge } from '../metrics/service-metrics.ts';
import type { OutboxHandler } from '../outbox/outbox.ts';
import type { serviceCore } from './service-core.ts';
import type { ServiceParts } from './service-parts.ts';

/**
 * What a feature of either service offers its composition root to mount: its routes by who may call them, its
 * outbox topics' handlers, its part of the sweeper's pass and the gauges it is measured by. Each is optional.
 * `Signed` is the check of the other service's signature that the signed routes run first; a service adds
 * the callers only it has (the back-end's TVs).
 */
export interface ServiceFeature<Signed> {
  /** Routes behind the admin token. */
  admin?: (scope: FastifyInstance) => void;
  /** Routes only the other service calls, each signed. */
  internal?: (app: FastifyInstance, signed: Signed) => void;
  /** Routes that check their callers themselves (a rail's notification, the SMS gateway's token) or need none. */
  open?: (app: FastifyInstance) => Promise<void> | void;
  /** Pages that keep state in cookies (the checkout page, the consoles). */
  pages?: (scope: FastifyInstance) => void;
  handlers?: ReadonlyArray<[string, OutboxHandler]>;
  /** The feature's part of the sweeper's pass (every second): expiry, renewals, asking open trades. */
  sweep?: () => Promise<unknown>;
  gauges?: readonly StoreGauge[];
}

/**
 * What most services are built from: the store, its units of work, the ids and the clock, and the `more`
 * parts of the core that a service also takes under the core's own names (the gateway, the provider).
 */
export function serviceBasics<
  C extends Pick<ServiceParts<unknown>, 'db' | 'random' | 'clock'> & { work: unknown },
  K extends keyof C = never,
>(core: C, ...more: readonly K[]): Pick<C, 'db' | 'work' | 'random' | 'clock' | K> {
  const basics = { db: core.db, work: core.work, random: core.random, clock: core.clock };
  return Object.assign(basics, Object.fromEntries(more.map((k) => [k, core[k]]))) as Pick<
    C,
    'db' | 'work' | 'random' | 'clock' | K
  >;
}

type Mounting = Pick<
  Awaited<ReturnType<typeof serviceCore>>,
  'app' | 'metrics' | 'sweeper' | 'worker' | 'laneWorkers' | 'idem'
>;

/**
 * Mounts what both services mount alike, in the features' order, before the callers only one of them has:
 * the metrics (outbox topics, gauges, the route behind the admin or metrics token), the sweeper's pass (the
 * features' own, then the shared pruning with `retained`), and the admin routes with the test clock's when
 * it is on, whose walk runs what is due at each step.
 */
export async function mountShared<Signed>(
  service: Mounting,
  core: Pick<ServiceParts<unknown>, 'config' | 'secrets'>,
  features: ReadonlyArray<ServiceFeature<Signed>>,
  options: { testClock: TestClock | undefined; retained: { table: string; key: string; dated: string } },
) {
  const { app, metrics } = service;
  const { secrets, config } = core;
  const handlers = features.flatMap((f) => f.handlers ?? []);
  metrics.expect.outboxTopics(handlers.map(([topic]) => topic));
  for (const gauge of features.flatMap((f) => f.gauges ?? [])) metrics.gauge(gauge);
  metrics.route([secrets.adminToken, ...(config.secrets.metricsToken ? [config.secrets.metricsToken] : [])]);
  const sweeper = service.sweeper(async () => {
    for (const f of features) await f.sweep?.();
  }, [options.retained]);
  /** What is due at the clock's moment, done now: for the test clock's walk. */
  const dueNow = async () => {
    await sweeper.runOnce();
    await Promise.all([service.worker, ...service.laneWorkers].map((w) => w.drain()));
  };
  await authenticatedScope(app, requireAdmin(secrets.adminToken), service.idem, (admin) => {
    for (const f of features) f.admin?.(admin);
    if (options.testClock) testClockRoutes(admin, options.testClock, dueNow);
  });
  return { handlers, sweeper };
}

import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { bearerToken } from '../auth.ts';
import type { Clock } from '../clock.ts';
import type { CommonTables } from '../db/common-tables.ts';
import { unauthorized } from '../errors.ts';
import { secretEquals } from '../ids.ts';
import { countsBy, SMS_COUNTED } from './row-counts.ts';
import { SeriesHistogram } from './series-histogram.ts';

/** A gauge read from the store when Prometheus scrapes: one value per label set. */
export interface StoreGauge {
  name: string;
  help: string;
  labelNames: readonly string[];
  read: () => Promise<Array<{ labels: Record<string, string>; value: number }>>;
}

/**
 * An event an alert must see the first time it happens. Levels (how many
 * rows are in a state) are gauges read from the store, and they fall when
 * rows are pruned, so `increase()` over them misses events; these are
 * counters, kept in the service's registry and told by the code where the
 * event happens (after its transaction committed).
 */
export type MetricEvent =
  | { event: 'outbox_given_up'; topic: string }
  | { event: 'sms_finished'; state: 'delivered' | 'failed' }
  | { event: 'refund_finished'; status: 'succeeded' | 'failed' };

/** The narrow way an event site counts: no registry, no globals (the services may share a process). */
export type Count = (event: MetricEvent) => void;

/** For a component built without metrics (unit tests): counts nothing. */
export const countNothing: Count = () => undefined;

/**
 * The event counters, each label set an alert reads exported at 0 from the
 * start: a series that first appears at 1 reads as no increase, so the
 * first failure would never fire an alert.
 */
function eventCounters(registry: Registry) {
  const givenUp = new Counter({
    name: 'tvpay_outbox_given_up_total',
    help: 'Outbox messages given up since start (refused by their receiver, or dead letters), by topic.',
    labelNames: ['topic'],
    registers: [registry],
  });
  const sms = new Counter({
    name: 'tvpay_sms_finished_total',
    help: 'SMS this service sent that reached a final delivery state since start, by state.',
    labelNames: ['state'],
    registers: [registry],
  });
  const refunds = new Counter({
    name: 'tvpay_refunds_finished_total',
    help: 'Refunds whose outcome the back-end applied since start, by status.',
    labelNames: ['status'],
    registers: [registry],
  });
  for (const state of ['delivered', 'failed']) sms.inc({ state }, 0);
  const count: Count = (e) => {
    if (e.event === 'outbox_given_up') givenUp.inc({ topic: e.topic });
    else if (e.event === 'sms_finished') sms.inc({ state: e.state });
    else refunds.inc({ status: e.status });
  };
  return {
    count,
    /** The outbox topics this service delivers, each exported at 0. */
    outboxTopics: (topics: Iterable<string>) => {
      for (const topic of topics) givenUp.inc({ topic }, 0);
    },
    /** On the back-end, which applies refunds' outcomes: both statuses exported at 0. */
    refunds: () => {
      for (const status of ['succeeded', 'failed']) refunds.inc({ status }, 0);
    },
  };
}

/**
 * The request histograms (duration by method, route and status; request and response sizes), observed through
 * series found once per route so a request costs no label lookup.
 */
function httpHistograms(app: FastifyInstance, registry: Registry): void {
  const duration = new SeriesHistogram(
    'http_request_duration_seconds',
    'HTTP requests by method, route and status code.',
    ['method', 'route', 'status_code'],
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registry,
  );
  // Sizes as the common exporters name them: what a route costs on the wire (a streamed answer has no length and is not
  // counted).
  const sizeBuckets = [100, 300, 1000, 3000, 10_000, 30_000, 100_000];
  const requestSize = new SeriesHistogram(
    'http_request_size_bytes',
    'HTTP request bodies by method and route.',
    ['method', 'route'],
    sizeBuckets,
    registry,
  );
  const responseSize = new SeriesHistogram(
    'http_response_size_bytes',
    'HTTP response bodies by method and route.',
    ['method', 'route'],
    sizeBuckets,
    registry,
  );
  // The three series of a method, route and status, found once per process.
  const series = new Map<
    string,
    { duration: (v: number) => void; requestSize: (v: number) => void; responseSize: (v: number) => void }
  >();
  const seriesOf = (method: string, route: string, status: number) => {
    const key = `${method} ${route} ${status}`;
    let found = series.get(key);
    if (!found) {
      const labels = { method, route };
      found = {
        duration: duration.series({ ...labels, status_code: String(status) }),
        requestSize: requestSize.series(labels),
        responseSize: responseSize.series(labels),
      };
      series.set(key, found);
    }
    return found;
  };
  app.addHook('onResponse', (request: FastifyRequest, reply, done) => {
    const s = seriesOf(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode);
    s.duration(reply.elapsedTime / 1000);
    s.requestSize(Number(request.headers['content-length'] ?? 0));
    const sent = reply.getHeader('content-length');
    if (sent !== undefined) s.responseSize(Number(sent));
    done();
  });
}

/** The gauges every service has, read from its own store at scrape time: the outbox and the SMS. */
function commonGauges(gauge: (g: StoreGauge) => Gauge, shared: Kysely<CommonTables>, clock: Clock): void {
  /** The service's outbox messages in one status, by topic. */
  const outboxByTopic = async (status: string) =>
    (
      await shared
        .selectFrom('outbox')
        .select(['topic', (eb) => eb.fn.countAll<number>().as('n')])
        .where('status', '=', status)
        .groupBy('topic')
        .execute()
    ).map((r) => ({ labels: { topic: r.topic }, value: Number(r.n) }));
  gauge({
    name: 'tvpay_outbox_pending',
    help: 'Outbox messages waiting to be delivered, by topic.',
    labelNames: ['topic'],
    read: () => outboxByTopic('pending'),
  });
  gauge({
    name: 'tvpay_outbox_oldest_pending_age_seconds',
    help: 'Age of the oldest outbox message still waiting (0 when none): a stuck side effect shows here.',
    labelNames: [],
    read: async () => {
      const row = await shared
        .selectFrom('outbox')
        .select((eb) => eb.fn.min('created_at').as('oldest'))
        .where('status', '=', 'pending')
        .executeTakeFirst();
      const oldest = row?.oldest as string | null | undefined;
      return [{ labels: {}, value: oldest ? Math.max(0, (clock.now().getTime() - Date.parse(oldest)) / 1000) : 0 }];
    },
  });
  gauge({
    name: 'tvpay_outbox_dead',
    help: 'Outbox messages given up (refused by their receiver), by topic.',
    labelNames: ['topic'],
    read: () => outboxByTopic('dead'),
  });
  gauge({
    name: 'tvpay_outbox_dead_letters',
    help: 'Outbox messages given up after TVPAY_OUTBOX_MAX_ATTEMPTS failed deliveries (never retried), by topic.',
    labelNames: ['topic'],
    read: () => outboxByTopic('dead_letter'),
  });
  gauge({
    name: 'tvpay_sms',
    help: 'SMS this service sent, by kind and delivery state.',
    labelNames: ['kind', 'state'],
    read: async () =>
      (await countsBy(shared, SMS_COUNTED)).map((r) => ({
        labels: { kind: r.labels.kind!, state: r.labels.status! },
        value: r.value,
      })),
  });
}

/**
 * A service's metrics (API "Metrics"), with prom-client in a registry of its
 * own (the services may share a process): the process and Node.js defaults,
 * the request-duration histogram by route, the group commit's batch sizes,
 * the outbox backlog and the age of its oldest message, the SMS by kind and
 * state, and the business gauges each service adds, all read from the store
 * at scrape time so every instance reports the same truth.
 */
export function serviceMetrics(app: FastifyInstance, shared: Kysely<CommonTables>, clock: Clock, service: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  httpHistograms(app, registry);
  const commits = new Histogram({
    name: 'tvpay_group_commit_units',
    help: 'Units of work per durable commit (SQLite group commit).',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers: [registry],
  });

  const gauge = (g: StoreGauge) =>
    new Gauge({
      name: g.name,
      help: g.help,
      labelNames: [...g.labelNames],
      registers: [registry],
      async collect() {
        this.reset();
        for (const { labels, value } of await g.read()) this.set(labels, value);
      },
    });
  commonGauges(gauge, shared, clock);

  const counters = eventCounters(registry);

  return {
    registry,
    /** Counts an event (MetricEvent): handed to the outbox workers and the places events happen. */
    count: counters.count,
    /** Exports the counters of the outbox topics and, on the back-end, of refunds at 0 (see eventCounters). */
    expect: { outboxTopics: counters.outboxTopics, refunds: counters.refunds },
    /** Adds a business gauge read from the store. */
    gauge,
    /** Feeds the group-commit histogram (from the store's commit listener). */
    observeCommit: (units: number) => commits.observe(units),
    /** `GET /metrics`, with the admin token (or TVPAY_METRICS_TOKEN when set). */
    route(tokens: readonly string[]) {
      app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
        const token = bearerToken(request);
        if (!token || !tokens.some((t) => secretEquals(token, t)))
          throw unauthorized('Send the admin token (or TVPAY_METRICS_TOKEN) as "Authorization: Bearer <token>".');
        return reply.type(registry.contentType).send(await registry.metrics());
      });
    },
  };
}

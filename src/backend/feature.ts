import type { FastifyInstance, preHandlerHookHandler } from 'fastify';
import type { Kysely } from 'kysely';
import type { Config } from '../config/config.ts';
import type { Secrets } from '../config/secrets.ts';
import type { Clock } from '../lib/clock.ts';
import type { CommonTables } from '../lib/db/common-tables.ts';
import type { RandomSource } from '../lib/ids.ts';
import type { Log } from '../lib/log.ts';
import type { Count, StoreGauge } from '../lib/metrics/service-metrics.ts';
import type { OutboxHandler } from '../lib/outbox/outbox.ts';
import type { RateLimiter } from '../lib/rate-limiter.ts';
import type { SmsGateway } from '../sms/gateway.ts';
import type { OrderEvents } from './orders/order-events.ts';
import type { LinkedOrder, LinkTokens } from './payments/link-tokens.ts';
import type { PaymentProvider } from './payments/payment-provider.ts';
import type { BackendDb, BackendTables } from './schema.ts';
import type { UnitOfWork } from '../lib/db/unit-of-work.ts';

/**
 * What every back-end feature is built from: the service core (store, limiter, metrics, outbox), the
 * process's parts and the ports every feature shares (the payment provider, the orders' announcements,
 * the link tokens). Each feature's factory takes the `Pick` of it that it uses.
 */
export interface BackendCore {
  db: BackendDb;
  /** The same database, seen through the tables every service shares (outbox, limits, SMS log). */
  shared: Kysely<CommonTables>;
  config: Readonly<Config>;
  secrets: Secrets;
  clock: Clock;
  random: RandomSource;
  gateway: SmsGateway;
  log: Log;
  limiter: RateLimiter;
  /** Counts the events an alert must see (the service's metrics). */
  count: Count;
  /** The store's transactions, each of which wakes the outbox workers once it has committed if it wrote to it. */
  work: UnitOfWork<BackendTables>;
  /** Announces an order's change to its event streams (and, on PostgreSQL, to the other instances). */
  events: OrderEvents;
  /** The wallet behind the back-end: tvpay's payment server unless another is given. */
  provider: PaymentProvider;
  linkTokens: LinkTokens;
  /** The phone checkout page's address for an order with a link token. */
  checkoutUrl: (order: LinkedOrder) => string;
}

/**
 * What a feature offers the composition root to mount: its routes by who may call them, its outbox
 * topics' handlers, its part of the sweeper's pass and the gauges it is measured by. Each is optional.
 */
export interface Feature {
  /** Routes behind the admin token. */
  admin?: (scope: FastifyInstance) => void;
  /** Routes a TV calls with its device token. */
  tv?: (scope: FastifyInstance) => void;
  /** Routes only the payment server calls, each signed. */
  internal?: (app: FastifyInstance, signed: preHandlerHookHandler) => void;
  /** Routes that check their callers themselves (the SMS gateway's token) or need none (the TV app). */
  open?: (app: FastifyInstance) => void;
  /** Pages that keep state in cookies (the console). */
  pages?: (scope: FastifyInstance) => void;
  handlers?: ReadonlyArray<[string, OutboxHandler]>;
  /** The feature's part of the sweeper's pass (every second): expiry, renewals, reconciliation. */
  sweep?: () => Promise<unknown>;
  gauges?: readonly StoreGauge[];
}

/** A feature factory's answer: what it offers to mount, and its services for the features built after it. */
export type Offers = Feature & Readonly<Record<string, unknown>>;

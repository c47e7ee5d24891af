import type { FastifyInstance, preHandlerHookHandler } from 'fastify';
import type { Log } from '../../lib/log.ts';
import type { StoreGauge } from '../../lib/metrics/service-metrics.ts';
import type { OutboxHandler } from '../../lib/outbox/outbox.ts';
import type { ServiceParts } from '../../lib/service/service-parts.ts';
import type { OrderEvents } from './order-events.ts';
import type { LinkedOrder, LinkTokens } from './link-tokens.ts';
import type { PaymentProvider } from './payment-provider.ts';
import type { BackendDb, BackendTables } from '../schema.ts';
import type { UnitOfWork } from '../../lib/db/unit-of-work.ts';

/**
 * What every back-end feature is built from: the service core (store, limiter, metrics, outbox), the
 * process's parts and the ports every feature shares (the payment provider, the orders' announcements,
 * the link tokens). Each feature's factory takes the `Pick` of it that it uses.
 */
export interface BackendCore extends ServiceParts<BackendDb> {
  log: Log;
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

/** What most services are built from: the store, its units of work, the ids and the clock. */
export function serviceBasics(core: Pick<BackendCore, 'db' | 'work' | 'random' | 'clock'>) {
  return { db: core.db, work: core.work, random: core.random, clock: core.clock };
}

import type { FastifyInstance, preHandlerHookHandler } from 'fastify';
import type { Log } from '../../lib/log.ts';
import type { ServiceFeature } from '../../lib/service/feature.ts';
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

/** A back-end feature: besides what either service's features offer, the routes a TV calls with its device token. */
export interface Feature extends ServiceFeature<preHandlerHookHandler> {
  /** Routes a TV calls with its device token. */
  tv?: (scope: FastifyInstance) => void;
  /** Routes that check their callers themselves (the SMS gateway's token) or need none (the TV app). */
  open?: (app: FastifyInstance) => void;
}

/** A feature factory's answer: what it offers to mount, and its services for the features built after it. */
export type Offers = Feature & Readonly<Record<string, unknown>>;

export { serviceBasics } from '../../lib/service/feature.ts';

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Config } from '../config/config.ts';
import type { Secrets } from '../config/secrets.ts';
import type { Clock } from '../lib/clock.ts';
import type { CommonTables } from '../lib/db/common-tables.ts';
import type { UnitOfWork } from '../lib/db/unit-of-work.ts';
import type { SignedClient } from '../lib/http/service-auth.ts';
import type { RandomSource } from '../lib/ids.ts';
import type { Count, StoreGauge } from '../lib/metrics/service-metrics.ts';
import type { OutboxHandler } from '../lib/outbox/outbox.ts';
import type { RateLimiter } from '../lib/rate-limiter.ts';
import type { SmsGateway } from '../sms/gateway.ts';
import type { PayserverDb, PayserverTables } from './schema.ts';

/**
 * What every payment-server feature is built from: the service core (store, limiter, metrics, outbox)
 * and the process's parts. Each feature's factory takes the `Pick` of it that it uses.
 */
export interface PayserverCore {
  db: PayserverDb;
  /** The same database, seen through the tables every service shares (outbox, limits, SMS log). */
  shared: Kysely<CommonTables>;
  config: Readonly<Config>;
  secrets: Secrets;
  clock: Clock;
  random: RandomSource;
  gateway: SmsGateway;
  limiter: RateLimiter;
  /** Counts the events an alert must see (the service's metrics). */
  count: Count;
  /** The store's transactions, each of which wakes the outbox workers once it has committed if it wrote to it. */
  work: UnitOfWork<PayserverTables>;
  /** Delivers an outbox message now; resolves whether it was delivered. */
  deliverNow: (messageId: string) => Promise<boolean>;
  /** Signed messages to the back-end (payment outcomes, a phone's cancel reply). */
  backend: Pick<SignedClient, 'post'>;
}

/** The back-end's signature check, run before a signed route's body is validated. */
export type SignedGuard = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

/**
 * What a feature offers the composition root to mount: its routes by who may call them, its outbox
 * topics' handlers, its part of the sweeper's pass and the gauges it is measured by. Each is optional.
 */
export interface Feature {
  /** Routes behind the admin token. */
  admin?: (scope: FastifyInstance) => void;
  /** Routes only the back-end calls, each signed. */
  internal?: (app: FastifyInstance, signed: SignedGuard) => void;
  /** Routes that check their callers themselves (a rail's notification, the SMS gateway's token). */
  open?: (app: FastifyInstance) => Promise<void> | void;
  /** Pages that keep state in cookies (the checkout page, the console). */
  pages?: (scope: FastifyInstance) => void;
  handlers?: ReadonlyArray<[string, OutboxHandler]>;
  /** The feature's part of the sweeper's pass (every second): expiry, asking open trades. */
  sweep?: () => Promise<unknown>;
  gauges?: readonly StoreGauge[];
}

/** A feature factory's answer: what it offers to mount, and its services for the features built after it. */
export type Offers = Feature & Readonly<Record<string, unknown>>;

/** What most services are built from: the store, its units of work, the ids and the clock. */
export function serviceBasics(core: Pick<PayserverCore, 'db' | 'work' | 'random' | 'clock'>) {
  return { db: core.db, work: core.work, random: core.random, clock: core.clock };
}

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { UnitOfWork } from '../lib/db/unit-of-work.ts';
import type { SignedClient } from '../lib/http/service-auth.ts';
import type { StoreGauge } from '../lib/metrics/service-metrics.ts';
import type { OutboxHandler } from '../lib/outbox/outbox.ts';
import type { ServiceParts } from '../lib/service/service-parts.ts';
import type { PayserverDb, PayserverTables } from './schema.ts';

/**
 * What every payment-server feature is built from: the service core (store, limiter, metrics, outbox)
 * and the process's parts. Each feature's factory takes the `Pick` of it that it uses.
 */
export interface PayserverCore extends ServiceParts<PayserverDb> {
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

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { UnitOfWork } from '../lib/db/unit-of-work.ts';
import type { SignedClient } from '../lib/http/service-auth.ts';
import type { ServiceFeature } from '../lib/service/feature.ts';
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

/** A payment-server feature: its signed routes are the back-end's calls. */
export type Feature = ServiceFeature<SignedGuard>;

/** A feature factory's answer: what it offers to mount, and its services for the features built after it. */
export type Offers = Feature & Readonly<Record<string, unknown>>;

export { serviceBasics } from '../lib/service/feature.ts';

import type { FastifyInstance } from 'fastify';
import type { OutboxWorker } from '../outbox/outbox-worker.ts';
import type { OutboxHandler } from '../outbox/outbox.ts';
import { closeHttp } from './shutdown.ts';
import type { Sweeper } from './sweeper.ts';

/** A built service: its HTTP app and the background workers that go with it. */
export interface ServiceParts {
  app: FastifyInstance;
  /** Starts the background workers. */
  start(): void;
  /**
   * Stops the workers, closes the app and the store: graceful shutdown. HTTP connections still open at
   * `cutConnectionsAt` (epoch ms; default 10 s from now) are cut (shutdown.ts).
   */
  close(cutConnectionsAt?: number): Promise<void>;
  /** Runs one housekeeping pass now (expiry, pruning), as the sweeper would. */
  sweep(): Promise<void>;
}

/** A service's outbox workers, as its tests and tools see them. */
export interface OutboxParts {
  worker: OutboxWorker;
  /**
   * Delivers every due outbox message and waits for the deliveries in flight, on the worker and on every
   * lane (webhooks are a lane of their own: draining `worker` alone does not wait for them). For tests
   * and tools that must know nothing is in flight before they move the clock.
   */
  drain(): Promise<void>;
}

/**
 * Ties a service's app, outbox worker, sweeper and store together: start runs
 * the workers; close stops taking requests at once and, while the HTTP server
 * drains, stops the workers (so no delivery is cut mid-way), then closes the
 * store when both are done.
 */
export function assembleService<S, D>(p: {
  app: FastifyInstance;
  /** The service's database, for its operators' tools and the tests' checks of what is stored. */
  db: D;
  worker: OutboxWorker;
  /** The workers of the topics delivered apart (serviceCore's lanes); they get the same handlers. */
  laneWorkers?: readonly OutboxWorker[];
  /** The outbox topics' handlers, the worker's when it starts. */
  handlers: Iterable<[string, OutboxHandler]>;
  sweeper: Sweeper;
  store: { close(): Promise<void> };
  /** Whether the store was created by this start (demo data may go in). */
  storeCreated: boolean;
  services: S;
}): ServiceParts & OutboxParts & { services: S; db: D; storeCreated: boolean } {
  return {
    app: p.app,
    db: p.db,
    storeCreated: p.storeCreated,
    worker: p.worker,
    services: p.services,
    start() {
      const handlers = [...p.handlers];
      p.worker.start(handlers);
      for (const w of p.laneWorkers ?? []) w.start(handlers);
      p.sweeper.start();
    },
    sweep: () => p.sweeper.runOnce(),
    async drain() {
      await Promise.all([p.worker, ...(p.laneWorkers ?? [])].map((w) => w.drain()));
    },
    async close(cutConnectionsAt = Date.now() + 10_000) {
      const http = closeHttp(p.app, cutConnectionsAt);
      try {
        await p.sweeper.stop();
        await p.worker.stop();
        for (const w of p.laneWorkers ?? []) await w.stop();
      } finally {
        await http;
      }
      await p.store.close();
    },
  };
}

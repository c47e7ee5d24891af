import type { FastifyInstance } from 'fastify';
import type { OutboxWorker } from '../outbox/outbox-worker.ts';
import type { Sweeper } from './sweeper.ts';

/** A built service: its HTTP app and the background workers that go with it. */
export interface RunningParts {
  app: FastifyInstance;
  worker?: OutboxWorker;
  sweeper?: Sweeper;
  /** Starts the background workers. */
  start(): void;
  /** Stops the workers, closes the app and the store: graceful shutdown. */
  close(): Promise<void>;
}

import { AsyncLocalStorage } from 'node:async_hooks';

/** The header a TV (or a peer service) sends its correlation id in, and every answer echoes. */
export const CORRELATION_HEADER = 'x-correlation-id';
const VALID = /^[A-Za-z0-9_.:-]{8,64}$/;

const store = new AsyncLocalStorage<string>();

/**
 * The correlation id that follows one payment across the services: set from the TV's request
 * (its `X-Correlation-Id`, else the request's own id), carried in the outbox with every message
 * queued under it, sent on to the peer with every service message and webhook, and put in every
 * log line (the logger's mixin) and in the order's timeline. AsyncLocalStorage carries it, so no
 * function has to pass it along by hand.
 */
export const correlation = {
  current: (): string | undefined => store.getStore(),
  /** Runs `fn` (and everything it starts) under the id; without one, under none. */
  run: <T>(id: string | null | undefined, fn: () => T): T => (id ? store.run(id, fn) : store.exit(fn)),
  /** A correlation id a caller sent, if it is one (else it is ignored, never trusted into logs). */
  accept: (value: unknown): string | undefined => (typeof value === 'string' && VALID.test(value) ? value : undefined),
};

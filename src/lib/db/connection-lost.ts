/**
 * SQLSTATEs of a connection PostgreSQL ended or refused: `57P01` admin shutdown (a restart,
 * `pg_terminate_backend`), `57P02` crash shutdown, `57P03` cannot connect now (starting up), and
 * class 08, connection exceptions.
 */
const LOST_STATES = new Set(['57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006']);

/** Socket errors of a connection that is gone or cannot be made. */
const LOST_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTCONN']);

/**
 * What node-postgres says when a query meets a connection that has ended: there is no SQLSTATE
 * then, only its message (pg's client.js and pg-pool's index.js).
 */
const LOST_MESSAGES = [
  'Connection terminated',
  'is not queryable',
  'timeout exceeded when trying to connect',
  'Client was closed',
];

/**
 * Whether an error means the database connection was lost (or could not be made), not that the
 * statement was wrong: the request that met it did not change anything it can rely on (its
 * transaction never committed, or its commit's answer is unknown and the caller retries with the
 * same idempotency key), so it is answered 503 with Retry-After instead of 500, and the pool opens a
 * new connection for the next one. Follows `cause`, as errors wrapped by a service keep it.
 */
export function isConnectionLost(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && (LOST_STATES.has(code) || LOST_ERRNOS.has(code))) return true;
    if (typeof message === 'string' && LOST_MESSAGES.some((m) => message.includes(m))) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

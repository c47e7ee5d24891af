import type { FastifyInstance } from 'fastify';

/**
 * How a graceful stop spends its limit (TVPAY_SHUTDOWN_SECONDS), so that the process is gone within it
 * whatever clients hold: idle connections close at once; requests in flight (a half-sent request head
 * among them, which would otherwise hold the server open until Node's 60 s header time-out) have half
 * the limit to finish; then every connection is cut; and if closing still has not ended (a worker's
 * delivery hangs), the process exits anyway a little before the limit.
 */
export interface ShutdownPlan {
  /** When connections still open are cut (epoch ms). */
  cutConnectionsAt: number;
  /** After how long from the start the process exits anyway. */
  forceExitAfterMs: number;
}

export function shutdownPlan(limitMs: number, startedAt: number = Date.now()): ShutdownPlan {
  return {
    cutConnectionsAt: startedAt + Math.floor(limitMs / 2),
    forceExitAfterMs: limitMs - Math.min(1000, Math.floor(limitMs / 10)),
  };
}

/**
 * Closes a service's HTTP server: it stops accepting at once, and Fastify answers what comes on open
 * connections meanwhile with 503 and `Connection: close` and closes idle connections; event streams end
 * in their preClose hooks. Connections still open at `cutAt` are destroyed.
 */
export async function closeHttp(app: FastifyInstance, cutAt: number): Promise<void> {
  const cut = setTimeout(() => app.server.closeAllConnections(), Math.max(0, cutAt - Date.now()));
  try {
    const closing = app.close();
    app.server.closeIdleConnections();
    await closing;
  } finally {
    clearTimeout(cut);
  }
}

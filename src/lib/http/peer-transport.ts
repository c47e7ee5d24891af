import type { FastifyInstance } from 'fastify';
import { httpCall, type HttpAnswer } from './http-client.ts';

/** One signed message to a peer service, as bytes: the same whichever way it travels. */
export interface PeerRequest {
  /** POST unless said (a signed GET reads, with an empty body). */
  method?: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}

/** How a service's messages reach its peer. */
export type PeerTransport = (request: PeerRequest) => Promise<HttpAnswer>;

/** Over HTTP to the peer's base URL: services in separate processes or on separate machines. */
export function httpTransport(baseUrl: string): PeerTransport {
  return ({ method = 'POST', path, headers, body, timeoutMs }) =>
    httpCall(new URL(path, baseUrl), { method, headers, body: method === 'GET' ? undefined : body, timeoutMs });
}

/**
 * Into the peer's app in this same process (Fastify's inject), while it
 * runs here; before it is built, or after it is gone, over `fallback`. The
 * message is the one HTTP would carry, and the peer takes it through the
 * same route, signature check, replay check and schema: only the loopback
 * socket, the HTTP parser and the client are skipped (BENCHMARKS.md).
 */
export function inProcessTransport(peer: () => FastifyInstance | undefined, fallback: PeerTransport): PeerTransport {
  return async (request) => {
    const app = peer();
    if (!app) return fallback(request);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the peer did not answer within ${request.timeoutMs} ms`)),
        request.timeoutMs,
      );
    });
    try {
      const res = await Promise.race([
        app.inject({
          method: request.method ?? 'POST',
          url: request.path,
          headers: request.headers,
          ...(request.method === 'GET' ? {} : { payload: request.body }),
        }),
        timeout,
      ]);
      return { status: res.statusCode, ok: res.statusCode >= 200 && res.statusCode < 300, text: res.body };
    } finally {
      clearTimeout(timer);
    }
  };
}

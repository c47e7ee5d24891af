import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A route's own Content-Security-Policy directives, in place of the app's. */
    contentSecurityPolicy?: Record<string, string[]>;
    /** The headers worked out from them when the route was added. */
    securityHeaders?: Readonly<Record<string, string>>;
  }
}

/**
 * The headers helmet sets for these options, worked out once: helmet's
 * middleware run against a response that only records them. The headers do
 * not depend on the request (no nonces), so building helmet's middleware on
 * every request, as its Fastify plugin does, bought nothing and cost a tenth
 * of a status read's CPU (BENCHMARKS.md).
 */
function helmetHeaders(options: HelmetOptions): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader: (name: string, value: string | number | readonly string[]) => void (headers[name.toLowerCase()] = String(value)),
    removeHeader: (name: string) => void delete headers[name.toLowerCase()],
  };
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, (err?: unknown) => {
    if (err) throw err;
  });
  return Object.freeze(headers);
}

/**
 * What an answer that is not a document carries (JSON, problem+json, SVG,
 * scripts): it must not be sniffed into another type, nor framed, nor run
 * anything if opened as a page, as OWASP's REST security guidance asks.
 * Helmet's full set is for documents; on every small JSON answer its dozen
 * headers cost the server and the client more than the answer itself
 * (BENCHMARKS.md).
 */
export const NON_DOCUMENT_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
});

/**
 * Documents (text/html) carry helmet's headers under these CSP directives,
 * a route with `config.contentSecurityPolicy` its own set, made when the
 * route is added; every other answer carries NON_DOCUMENT_HEADERS.
 */
export function securityHeaders(app: FastifyInstance<any, any, any, any, any>, directives: Record<string, string[]>): void {
  const forDirectives = (d: Record<string, string[]>) =>
    helmetHeaders({ hsts: false, contentSecurityPolicy: { useDefaults: false, directives: d } }); // TLS ends at the operator's proxy, which sets HSTS
  const documentHeaders = forDirectives(directives);
  app.addHook('onRoute', (route) => {
    const own = route.config?.contentSecurityPolicy;
    if (own) route.config = { ...route.config, securityHeaders: forDirectives(own) };
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    const document = String(reply.getHeader('content-type') ?? '').startsWith('text/html');
    reply.headers(document ? (request.routeOptions.config.securityHeaders ?? documentHeaders) : NON_DOCUMENT_HEADERS);
    done(null, payload);
  });
}

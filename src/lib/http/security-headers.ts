import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply } from 'fastify';
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
    setHeader: (name: string, value: string | number | readonly string[]) =>
      void (headers[name.toLowerCase()] = String(value)),
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

/** Same-origin everything; inline styles (the pages are small and self-contained), no inline scripts. */
export const CONTENT_SECURITY_POLICY: Readonly<Record<string, string[]>> = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
  objectSrc: ["'none'"],
};

// TLS ends at the operator's proxy, which sets HSTS.
const forDirectives = (d: Record<string, string[]>) =>
  helmetHeaders({ hsts: false, contentSecurityPolicy: { useDefaults: false, directives: d } });
const DOCUMENT_HEADERS = forDirectives(CONTENT_SECURITY_POLICY);

/**
 * Every answer starts with NON_DOCUMENT_HEADERS (set by the app's first
 * hook, `createApp`); a route with `config.contentSecurityPolicy` gets its
 * own document headers worked out here once, when it is added. No hook runs
 * when an answer is sent: an onSend hook on every answer, to look at a type
 * that only pages set, cost every JSON call its share (BENCHMARKS.md).
 */
export function documentHeadersPerRoute(app: FastifyInstance<any, any, any, any, any>): void {
  app.addHook('onRoute', (route) => {
    const own = route.config?.contentSecurityPolicy;
    if (own) route.config = { ...route.config, securityHeaders: forDirectives(own) };
  });
}

/**
 * Sends an HTML document with helmet's headers under the route's CSP (its
 * own, else CONTENT_SECURITY_POLICY), in place of the non-document ones.
 * Every page goes out through here; a page sent another way keeps the
 * non-document CSP, which runs and loads nothing, so a forgotten page shows
 * broken rather than unprotected.
 */
export function sendDocument(reply: FastifyReply, html: string): FastifyReply {
  return reply
    .headers(reply.request.routeOptions.config.securityHeaders ?? DOCUMENT_HEADERS)
    .type('text/html; charset=utf-8')
    .send(html);
}

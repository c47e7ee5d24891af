import { correlation, CORRELATION_HEADER } from '../correlation.ts';
import Fastify, { type FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { DomainError } from '../errors.ts';
import { lazyChild, redactUrl, type Log } from '../log.ts';
import { errorHandler, problem, sendProblem } from './problem.ts';
import { securityHeaders } from './security-headers.ts';
import { findIllFormed, jsonTooDeep, MAX_JSON_DEPTH } from './text-guards.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** A JSON body's bytes exactly as received, for signature checks. */
    rawBody?: Buffer;
  }
}

export const BODY_LIMIT = 64 * 1024;

/** Same-origin everything; inline styles (the pages are small and self-contained), no inline scripts. */
export const CONTENT_SECURITY_POLICY = {
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

/** Where the logger factory leaves a request's correlation id for the hook that runs the request under it (reading it back from the logger's bindings parsed them from JSON on every request). */
const CORRELATION_ID = Symbol('correlationId');
type CorrelatedMessage = { [CORRELATION_ID]?: string };

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

const isEmptyBody = (body: unknown) =>
  body === undefined || body === null || (typeof body === 'object' && !Array.isArray(body) && Object.keys(body as object).length === 0);

export interface CreateAppOptions {
  log: Log;
  title: string;
  /** Whether storage answers (for /readyz); the app is built only after migrations ran. */
  ready: () => Promise<boolean>;
}

/**
 * The Fastify set-up every tvpay service shares: problem+json errors, a 64 KB
 * body limit, strict validation (no coercion of bodies, no silent removal of
 * unknown fields), the raw body kept for signatures, health routes and an
 * OpenAPI document at /openapi.json.
 */
export async function createApp(options: CreateAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.log,
    // Each request's logger is bound to its correlation id from its first line ("incoming request") on.
    childLoggerFactory: (logger, bindings, childOptions, rawRequest) => {
      const id = correlation.accept(rawRequest.headers[CORRELATION_HEADER]) ?? String(bindings.reqId);
      (rawRequest as CorrelatedMessage)[CORRELATION_ID] = id;
      return lazyChild(logger as Log, { ...bindings, correlationId: id }, childOptions);
    },
    bodyLimit: BODY_LIMIT,
    // A slow or idle client cannot hold a socket for ever (event streams send a heartbeat every 15 s).
    requestTimeout: 30_000,
    connectionTimeout: 120_000,
    keepAliveTimeout: 10_000,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: true, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // One payment's correlation id: the caller's (a TV's, or a peer service's), else this request's id;
  // everything the request does runs under it, and its answer says it.
  app.addHook('onRequest', (request, reply, done) => {
    const id = (request.raw as CorrelatedMessage)[CORRELATION_ID] ?? request.id;
    reply.header(CORRELATION_HEADER, id);
    correlation.run(id, done);
  });

  // Bodies are JSON (or forms on the phone pages); anything else is 415, not parsed as text.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = body as Buffer;
    request.rawBody = bytes;
    let text: string;
    try {
      text = UTF8.decode(bytes);
    } catch {
      done(new DomainError('MALFORMED_JSON', 'The body is not valid UTF-8; send JSON encoded as UTF-8.'), undefined);
      return;
    }
    if (text.trim() === '') {
      done(new DomainError('MALFORMED_JSON', 'The body is empty; send a JSON object.'), undefined);
      return;
    }
    if (jsonTooDeep(text)) {
      done(new DomainError('JSON_TOO_DEEP', `The body nests deeper than ${MAX_JSON_DEPTH} levels; send a flat JSON object.`), undefined);
      return;
    }
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new DomainError('MALFORMED_JSON', 'The body is not valid JSON.'), undefined);
    }
  });
  await app.register(formbody, { bodyLimit: BODY_LIMIT });
  // The checkout page's steps and the consoles' sessions live in cookies.
  await app.register(cookie);
  // Payment pages must not be framed by another site (clickjacking) nor sniffed into another type.
  securityHeaders(app, CONTENT_SECURITY_POLICY);
  await app.register(swagger, {
    openapi: { info: { title: options.title, version: '1.0.0' } },
  });

  // Before validation and before any handler or hook looks at the input: well-formed text only,
  // and a POST whose route declares no body takes none (so junk cannot ride along unchecked).
  app.addHook('preValidation', (request, _reply, done) => {
    for (const [part, value] of [['body', request.body], ['query', request.query], ['path', request.params]] as const) {
      const where = findIllFormed(value);
      if (where) return done(new DomainError('TEXT_MALFORMED', `The ${part} holds text that is not well-formed Unicode (a lone surrogate) at ${where}; send valid UTF-8.`));
    }
    if (request.method === 'POST' && !request.routeOptions.schema?.body && !isEmptyBody(request.body)) {
      return done(new DomainError('BODY_NOT_ALLOWED', 'This request takes no body; send it empty.'));
    }
    done();
  });

  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, problem(404, 'NOT_FOUND', `There is no ${request.method} ${redactUrl(request.url)}.`)),
  );

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) =>
    (await options.ready().catch(() => false)) ? { status: 'ready' } : sendProblem(reply, problem(503, 'NOT_READY', 'Storage does not answer.')),
  );
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app as unknown as FastifyInstance;
}

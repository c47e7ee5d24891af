import { correlation, CORRELATION_HEADER } from '../correlation.ts';
import Fastify, { type FastifyInstance, type preValidationHookHandler } from 'fastify';
import formbody from '@fastify/formbody';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { DomainError } from '../errors.ts';
import { lazyChild, redactUrl, type Log } from '../log.ts';
import { errorHandler, problem, sendProblem } from './problem.ts';
import { documentHeadersPerRoute, NON_DOCUMENT_HEADERS } from './security-headers.ts';
import { findIllFormed, jsonTooDeep, MAX_JSON_DEPTH } from './text-guards.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** A JSON body's bytes exactly as received, for signature checks. */
    rawBody?: Buffer;
  }
}

export const BODY_LIMIT = 64 * 1024;

/**
 * Where the logger factory leaves a request's correlation id for the hook that runs the request under it (reading it
 * back from the logger's bindings parsed them from JSON on every request).
 */
const CORRELATION_ID = Symbol('correlationId');
type CorrelatedMessage = { [CORRELATION_ID]?: string };

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

const isEmptyBody = (body: unknown) =>
  body === undefined ||
  body === null ||
  (typeof body === 'object' && !Array.isArray(body) && Object.keys(body as object).length === 0);

const refuseBody: preValidationHookHandler = (request, _reply, done) =>
  done(
    isEmptyBody(request.body)
      ? undefined
      : new DomainError('BODY_NOT_ALLOWED', 'This request takes no body; send it empty.'),
  );

export interface CreateAppOptions {
  log: Log;
  title: string;
  /** Whether storage answers (for /readyz); the app is built only after migrations ran. */
  ready: () => Promise<boolean>;
  /** Fastify's `trustProxy` (config `trustProxy`): whose `X-Forwarded-*` headers count; none by default. */
  trustProxy?: boolean | string;
}

/**
 * A JSON body as tvpay takes it: UTF-8, not empty, nested at most MAX_JSON_DEPTH deep, and its text
 * well-formed Unicode; each refusal a DomainError that says what to fix.
 */
function parseJsonBody(bytes: Buffer): unknown {
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    throw new DomainError('MALFORMED_JSON', 'The body is not valid UTF-8; send JSON encoded as UTF-8.');
  }
  if (text.trim() === '') throw new DomainError('MALFORMED_JSON', 'The body is empty; send a JSON object.');
  if (jsonTooDeep(text))
    throw new DomainError(
      'JSON_TOO_DEEP',
      `The body nests deeper than ${MAX_JSON_DEPTH} levels; send a flat JSON object.`,
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new DomainError('MALFORMED_JSON', 'The body is not valid JSON.');
  }
  // Only a JSON body can carry a lone surrogate (as a \u escape): text in a URL or a form is decoded
  // from UTF-8, which cannot encode one (create-app.test.ts shows it), so the body is the one place to look.
  const where = findIllFormed(parsed);
  if (where)
    throw new DomainError(
      'TEXT_MALFORMED',
      `The body holds text that is not well-formed Unicode (a lone surrogate) at ${where}; send valid UTF-8.`,
    );
  return parsed;
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
    trustProxy: options.trustProxy ?? false,
    // A slow or idle client cannot hold a socket for ever (event streams send a heartbeat every 15 s).
    requestTimeout: 30_000,
    connectionTimeout: 120_000,
    keepAliveTimeout: 10_000,
    // A path whose percent-escapes are not UTF-8 never reaches routing: a problem like any other 400.
    frameworkErrors: (error, request, reply) =>
      sendProblem(
        reply.headers(NON_DOCUMENT_HEADERS),
        error.code === 'FST_ERR_BAD_URL'
          ? problem(400, 'URL_MALFORMED', 'The path holds percent-escapes that are not UTF-8; encode text as UTF-8.')
          : problem(400, 'BAD_REQUEST', error.message),
      ),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: true, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // One payment's correlation id: the caller's (a TV's, or a peer service's), else this request's id;
  // everything the request does runs under it, and its answer says it. Every answer starts with the
  // headers of a non-document (a page replaces them, sendDocument).
  app.addHook('onRequest', (request, reply, done) => {
    const id = (request.raw as CorrelatedMessage)[CORRELATION_ID] ?? request.id;
    reply.headers(NON_DOCUMENT_HEADERS).header(CORRELATION_HEADER, id);
    correlation.run(id, done);
  });
  documentHeadersPerRoute(app);
  // A POST whose route declares no body takes none (so junk cannot ride along unchecked): a hook on
  // those routes only, before validation and before any handler or hook looks at the input.
  app.addHook('onRoute', (route) => {
    if (![route.method].flat().includes('POST') || route.schema?.body) return;
    route.preValidation = [refuseBody, ...[route.preValidation ?? []].flat()];
  });

  // Bodies are JSON (or forms on the phone pages); anything else is 415, not parsed as text.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = body as Buffer;
    request.rawBody = bytes;
    try {
      done(null, parseJsonBody(bytes));
    } catch (err) {
      done(err as DomainError, undefined);
    }
  });
  await app.register(formbody, { bodyLimit: BODY_LIMIT });
  await app.register(swagger, {
    openapi: { info: { title: options.title, version: '1.0.0' } },
  });

  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, problem(404, 'NOT_FOUND', `There is no ${request.method} ${redactUrl(request.url)}.`)),
  );

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) =>
    (await options.ready().catch(() => false))
      ? { status: 'ready' }
      : sendProblem(reply, problem(503, 'NOT_READY', 'Storage does not answer.')),
  );
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app as unknown as FastifyInstance;
}

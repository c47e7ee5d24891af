import Fastify, { type FastifyInstance } from 'fastify';
import formbody from '@fastify/formbody';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { DomainError } from '../errors.ts';
import { redactUrl, type Log } from '../log.ts';
import { errorHandler, problem, sendProblem } from './problem.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The body exactly as received, for signature checks. */
    rawBody?: string;
  }
}

export const BODY_LIMIT = 64 * 1024;

export interface CreateAppOptions {
  log: Log;
  title: string;
  /** Whether storage is open and migrated (for /readyz). */
  ready: () => boolean;
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
    bodyLimit: BODY_LIMIT,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: true, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Bodies are JSON (or forms on the phone pages); anything else is 415, not parsed as text.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    request.rawBody = text;
    if (text.trim() === '') {
      done(new DomainError('MALFORMED_JSON', 400, 'The body is empty; send a JSON object.'), undefined);
      return;
    }
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new DomainError('MALFORMED_JSON', 400, 'The body is not valid JSON.'), undefined);
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
    options.ready() ? { status: 'ready' } : sendProblem(reply, problem(503, 'NOT_READY', 'Storage is not open yet.')),
  );
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app as unknown as FastifyInstance;
}

import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { RailsAnswer, ScanAnswer, ScanRequest } from '../../contracts/provider-api.ts';
import type { RailName } from '../rails/rail.ts';
import type { RailPayments } from './rail-payments.ts';
import type { RailRegistry } from '../rails/registry.ts';

/**
 * The back-end's rail routes (service-signed like every internal route): the rails that are on, and the
 * QR code of an order for a rail.
 */
export function railInternalRoutes(
  app: FastifyInstance,
  deps: { rails: RailRegistry; payments: RailPayments; signed: (req: any, reply: any) => Promise<void> },
): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const opts = { preValidation: deps.signed };
  r.get('/internal/v1/rails', { ...opts, schema: { hide: true, response: { 200: RailsAnswer } } }, async () =>
    deps.rails.on.map((rail) => ({ rail: rail.name, title: rail.title })),
  );
  r.post(
    '/internal/v1/rails/scan',
    { ...opts, schema: { hide: true, body: ScanRequest, response: { 200: ScanAnswer } } },
    async (request) => deps.payments.scan(request.body),
  );
}

/**
 * The providers' notifications (`/v1/rails/{rail}/notify`, the `notify_url`s tvpay sends), for the rails
 * that are on. Their bodies are kept as the raw bytes, whatever the content type (a form for Alipay, JSON
 * for WeChat Pay): signatures are verified over exactly what arrived, so these routes have a parser of
 * their own, scoped to them. The answer is whatever the rail says the provider must be told.
 */
export async function railNotifyRoutes(
  app: FastifyInstance,
  deps: { rails: RailRegistry; payments: RailPayments },
): Promise<void> {
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    for (const rail of deps.rails.on) {
      scope.post(
        `/v1/rails/${rail.name}/notify`,
        { schema: { hide: true, body: Type.Any() } },
        async (request, reply) => {
          const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
          const answer = await deps.payments.notification(rail.name as RailName, { headers: request.headers, body });
          return reply.status(answer.status).type(answer.contentType).send(answer.body);
        },
      );
    }
  });
}

import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { RailsSchema, ScanBodySchema, ScanSchema } from '../../contracts/tv-api.ts';
import { IdempotencyHeaders } from '../../lib/http/schemas.ts';
import type { RailsService } from './rails-service.ts';

const OrderParams = Type.Object({ orderId: Type.String({ minLength: 1, maxLength: 64 }) });

/** The TV's money-rail routes (issue 28): the rails that are on, and a rail's QR code for an order. */
export function tvRailRoutes(app: FastifyInstance, rails: RailsService): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get('/v1/rails', { schema: { response: { 200: RailsSchema } } }, () => rails.list());
  r.post(
    '/v1/orders/:orderId/scan',
    {
      schema: { headers: IdempotencyHeaders, params: OrderParams, body: ScanBodySchema, response: { 200: ScanSchema } },
    },
    (request) => rails.scan(request.device!, request.params.orderId, request.body.rail),
  );
}

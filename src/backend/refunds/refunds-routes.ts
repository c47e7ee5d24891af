import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { RefundInput, RefundSchema } from '../../contracts/admin-api.ts';
import { IdempotencyHeaders } from '../../lib/http/schemas.ts';
import type { RefundsService } from './refunds-service.ts';

const OrderParams = Type.Object({ orderId: Type.String({ minLength: 1, maxLength: 64 }) });

/** Operators' refunds of an order (API "Refunds"). */
export function adminRefundRoutes(app: FastifyInstance, refunds: RefundsService): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.post(
    '/admin/v1/orders/:orderId/refunds',
    {
      schema: { headers: IdempotencyHeaders, params: OrderParams, body: RefundInput, response: { 201: RefundSchema } },
    },
    async (request, reply) => reply.code(201).send(await refunds.create(request.params.orderId, request.body)),
  );
  r.get(
    '/admin/v1/orders/:orderId/refunds',
    { schema: { params: OrderParams, response: { 200: Type.Array(RefundSchema) } } },
    async (request) => refunds.list(request.params.orderId),
  );
}

import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { DeliverySchema, NewWebhookSchema, WebhookInput, WebhookSchema } from '../../contracts/admin-api.ts';
import { IdempotencyHeaders, QueryLimit } from '../../lib/http/schemas.ts';
import type { WebhooksService } from './webhooks-service.ts';

const WebhookParams = Type.Object({ webhookId: Type.String({ minLength: 1, maxLength: 64 }) });

/** Operators' webhooks (API "Webhooks"): the secret is in the 201 only, never in a replay of it. */
export function adminWebhookRoutes(app: FastifyInstance, webhooks: WebhooksService): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.post(
    '/admin/v1/webhooks',
    {
      config: { secretFields: ['secret'] },
      schema: { headers: IdempotencyHeaders, body: WebhookInput, response: { 201: NewWebhookSchema } },
    },
    async (request, reply) => reply.code(201).send(await webhooks.register(request.body.url, request.body.events)),
  );
  r.get('/admin/v1/webhooks', { schema: { response: { 200: Type.Array(WebhookSchema) } } }, async () =>
    webhooks.list(),
  );
  r.delete('/admin/v1/webhooks/:webhookId', { schema: { params: WebhookParams } }, async (request, reply) => {
    await webhooks.remove(request.params.webhookId);
    return reply.code(204).send();
  });
  r.get(
    '/admin/v1/webhooks/:webhookId/deliveries',
    {
      schema: {
        params: WebhookParams,
        querystring: Type.Object({ limit: Type.Optional(QueryLimit) }, { additionalProperties: false }),
        response: { 200: Type.Array(DeliverySchema) },
      },
    },
    async (request) =>
      webhooks.deliveries(
        request.params.webhookId,
        request.query.limit === undefined ? undefined : Number(request.query.limit),
      ),
  );
  r.post(
    '/admin/v1/webhooks/:webhookId/deliveries/:deliveryId/resend',
    {
      schema: {
        headers: IdempotencyHeaders,
        params: Type.Object({
          webhookId: Type.String({ minLength: 1, maxLength: 64 }),
          deliveryId: Type.String({ minLength: 1, maxLength: 64 }),
        }),
        response: { 202: Type.Object({ deliveryId: Type.String(), status: Type.Literal('pending') }) },
      },
    },
    async (request, reply) => {
      await webhooks.resend(request.params.webhookId, request.params.deliveryId);
      return reply.code(202).send({ deliveryId: request.params.deliveryId, status: 'pending' as const });
    },
  );
}

import type { FastifyInstance, preHandlerHookHandler } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { CancelByPhone, CancelByPhoneAnswer } from '../../contracts/provider-api.ts';
import { SubscriptionSchema } from '../../contracts/tv-api.ts';
import { IdempotencyHeaders } from '../../lib/http/schemas.ts';
import { normalizePhone } from '../../lib/phone.ts';
import type { SubscriptionsService } from './subscriptions-service.ts';

const Params = Type.Object({ subscriptionId: Type.String({ minLength: 1, maxLength: 64 }) });

/** A TV's subscriptions (its account's), and cancelling one with the remote. */
export function tvSubscriptionRoutes(app: FastifyInstance, subscriptions: SubscriptionsService): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get('/v1/subscriptions', { schema: { response: { 200: Type.Array(SubscriptionSchema) } } }, async (request) =>
    subscriptions.listForAccount(request.device!.accountId),
  );
  r.post(
    '/v1/subscriptions/:subscriptionId/cancel',
    { schema: { headers: IdempotencyHeaders, params: Params, response: { 200: SubscriptionSchema } } },
    async (request) => subscriptions.cancel(request.params.subscriptionId, { accountId: request.device!.accountId }),
  );
}

/** Operators' subscriptions: search and cancel. */
export function adminSubscriptionRoutes(
  app: FastifyInstance,
  subscriptions: SubscriptionsService,
  regions: readonly string[],
): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get(
    '/admin/v1/subscriptions',
    {
      schema: {
        querystring: Type.Object(
          {
            phone: Type.Optional(Type.String({ maxLength: 64 })),
            accountId: Type.Optional(Type.String({ maxLength: 128 })),
            status: Type.Optional(
              Type.Union([Type.Literal('active'), Type.Literal('cancelled'), Type.Literal('lapsed')]),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(SubscriptionSchema) },
      },
    },
    async (request) => {
      const { phone, ...rest } = request.query;
      return subscriptions.listAdmin({
        ...rest,
        ...(phone === undefined ? {} : { phone: normalizePhone(phone, regions) }),
      });
    },
  );
  r.post(
    '/admin/v1/subscriptions/:subscriptionId/cancel',
    { schema: { headers: IdempotencyHeaders, params: Params, response: { 200: SubscriptionSchema } } },
    async (request) => subscriptions.cancel(request.params.subscriptionId),
  );
}

/** The payment server hands over a phone's TD reply (signed): its renewals are cancelled and it is answered. */
export function cancelByPhoneRoute(
  app: FastifyInstance,
  subscriptions: SubscriptionsService,
  regions: readonly string[],
  signed: preHandlerHookHandler,
): void {
  app
    .withTypeProvider<TypeBoxTypeProvider>()
    .post(
      '/internal/v1/subscriptions/cancel-by-phone',
      { preValidation: signed, schema: { hide: true, body: CancelByPhone, response: { 200: CancelByPhoneAnswer } } },
      async (request) => ({
        cancelled: await subscriptions.cancelByPhone(normalizePhone(request.body.phone, regions)),
      }),
    );
}

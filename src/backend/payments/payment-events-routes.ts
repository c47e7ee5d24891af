import type { FastifyInstance, preHandlerHookHandler } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { PaymentEvents } from './payment-events.ts';

/** Where the payment server delivers payment outcomes (HMAC-signed). */
export function paymentEventRoutes(app: FastifyInstance, events: PaymentEvents, signed: preHandlerHookHandler): void {
  app.withTypeProvider<TypeBoxTypeProvider>().post(
    '/internal/v1/payment-events',
    {
      preValidation: signed,
      schema: {
        hide: true,
        body: Type.Object(
          {
            messageId: Type.String({ minLength: 1, maxLength: 64 }),
            type: Type.Union([Type.Literal('payment.completed'), Type.Literal('payment.failed')]),
            orderId: Type.String({ maxLength: 64 }),
            attempt: Type.Integer({ minimum: 0 }),
            paymentId: Type.String({ maxLength: 64 }),
            amountMinor: Type.Integer({ minimum: 0 }),
            currency: Type.String({ pattern: '^[A-Z]{3}$' }),
            failureCode: Type.Union([Type.String({ maxLength: 64 }), Type.Null()]),
            at: Type.String({ maxLength: 32 }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ result: Type.Union([Type.Literal('applied'), Type.Literal('ignored'), Type.Literal('rejected')]), duplicate: Type.Boolean() }),
        },
      },
    },
    async (request) => events.apply(request.body),
  );
}

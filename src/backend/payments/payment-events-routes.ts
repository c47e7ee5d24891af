import type { FastifyInstance, preHandlerHookHandler } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { PaymentEvent, PaymentEventAnswer } from '../../contracts/provider-api.ts';
import type { PaymentEvents } from './payment-events.ts';

/** Where the payment server delivers payment outcomes (HMAC-signed). */
export function paymentEventRoutes(app: FastifyInstance, events: PaymentEvents, signed: preHandlerHookHandler): void {
  app.withTypeProvider<TypeBoxTypeProvider>().post(
    '/internal/v1/payment-events',
    {
      preValidation: signed,
      schema: {
        hide: true,
        body: PaymentEvent,
        response: { 200: PaymentEventAnswer },
      },
    },
    async (request) => events.apply(request.body),
  );
}

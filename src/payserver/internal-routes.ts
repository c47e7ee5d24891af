import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { MAX_AMOUNT_MINOR } from '../lib/money.ts';
import { normalizePhone } from '../lib/phone.ts';
import type { AccountsService } from './accounts/accounts-service.ts';
import type { PaymentsService } from './payments/payments-service.ts';

/** StartPaymentResult on the wire (serialised by its schema; nothing else leaves). */
const StartAnswer = Type.Object({
  state: Type.Union([
    Type.Literal('pending_confirmation'),
    Type.Literal('awaiting_checkout'),
    Type.Literal('failed'),
    Type.Literal('superseded'),
    Type.Literal('closed'),
    Type.Literal('paid'),
  ]),
  failureCode: Type.Union([Type.String(), Type.Null()]),
});

/**
 * The payment server's side of the provider interface, for the back-end only
 * (every request HMAC-signed): binding lookup, start of a payer attempt
 * (pre-pay or checkout link) and closing an order.
 */
export function internalRoutes(
  app: FastifyInstance,
  deps: { accounts: AccountsService; payments: PaymentsService; regions: readonly string[]; signed: (req: any, reply: any) => Promise<void> },
): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  // The signature is checked before the body is validated, so an unsigned caller learns nothing of the schema.
  const opts = { preValidation: deps.signed };
  r.post(
    '/internal/v1/bindings/lookup',
    { ...opts, schema: { hide: true, body: Type.Object({ phone: Type.String({ maxLength: 32 }) }, { additionalProperties: false }), response: { 200: Type.Object({ bound: Type.Boolean() }) } } },
    async (request) => ({ bound: await deps.accounts.isBound(normalizePhone(request.body.phone, deps.regions)) }),
  );
  r.post(
    '/internal/v1/payments',
    {
      ...opts,
      schema: {
        hide: true,
        body: Type.Object(
          {
            orderId: Type.String({ maxLength: 64 }),
            attempt: Type.Integer({ minimum: 1 }),
            mode: Type.Union([Type.Literal('sms_confirm'), Type.Literal('wap_link')]),
            phone: Type.String({ maxLength: 32 }),
            amountMinor: Type.Integer({ minimum: 1, maximum: MAX_AMOUNT_MINOR }),
            currency: Type.String({ pattern: '^[A-Z]{3}$' }),
            productTitle: Type.String({ maxLength: 200 }),
            payee: Type.String({ maxLength: 64 }),
            linkToken: Type.String({ minLength: 22, maxLength: 128 }),
            deviceId: Type.String({ maxLength: 64 }),
            expiresAt: Type.String({ maxLength: 32 }),
          },
          { additionalProperties: false },
        ),
        response: { 200: StartAnswer },
      },
    },
    async (request) => deps.payments.start(request.body),
  );
  r.post(
    '/internal/v1/orders/:orderId/close',
    { ...opts, schema: { hide: true, params: Type.Object({ orderId: Type.String({ maxLength: 64 }) }), response: { 200: Type.Object({ state: Type.Union([Type.Literal('closed'), Type.Literal('paid')]) }) } } },
    async (request) => deps.payments.close(request.params.orderId),
  );
}

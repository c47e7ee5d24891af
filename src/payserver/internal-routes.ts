import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  BindingAnswer,
  BindingLookup,
  CloseAnswer,
  CloseParams,
  EndAttemptAnswer,
  EndAttemptRequest,
  OrderTrace,
  OrdersSms,
  OrdersSmsRequest,
  RefundAnswer,
  RefundRequest,
  RenewalRequest,
  StartPaymentRequest,
  StartPaymentResult,
} from '../contracts/provider-api.ts';
import { normalizePhone } from '../lib/phone.ts';
import type { Feature, SignedGuard } from './feature.ts';
import type { AccountsService } from './accounts/accounts-service.ts';
import type { PaymentsService } from './payments/payments-service.ts';
import type { RefundsService } from './refunds/refunds-service.ts';
import type { RenewalsService } from './renewals/renewals-service.ts';

/**
 * The payment server's side of the provider interface, for the back-end only
 * (every request HMAC-signed): binding lookup, start of a payer attempt
 * (pre-pay or checkout link), ending a pending attempt
 * without a new payer, and closing an order.
 */
export function providerApi(deps: ProviderApiDeps): Feature {
  return { internal: (app, signed) => internalRoutes(app, { ...deps, signed }) };
}

/** The services behind the provider interface, each as little of it as its routes call. */
interface ProviderApiDeps {
  accounts: Pick<AccountsService, 'isBound'>;
  payments: Pick<PaymentsService, 'start' | 'trace' | 'endAttempt' | 'smsOfOrders' | 'close'>;
  refunds: Pick<RefundsService, 'refund'>;
  renewals: Pick<RenewalsService, 'charge'>;
  regions: readonly string[];
}

function internalRoutes(app: FastifyInstance, deps: ProviderApiDeps & { signed: SignedGuard }): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  // The signature is checked before the body is validated, so an unsigned caller learns nothing of the schema.
  const opts = { preValidation: deps.signed };
  r.post(
    '/internal/v1/bindings/lookup',
    { ...opts, schema: { hide: true, body: BindingLookup, response: { 200: BindingAnswer } } },
    async (request) => ({ bound: await deps.accounts.isBound(normalizePhone(request.body.phone, deps.regions)) }),
  );
  r.post(
    '/internal/v1/payments',
    {
      ...opts,
      schema: {
        hide: true,
        body: StartPaymentRequest,
        response: { 200: StartPaymentResult },
      },
    },
    async (request) => deps.payments.start(request.body),
  );
  r.post(
    '/internal/v1/renewals',
    { ...opts, schema: { hide: true, body: RenewalRequest, response: { 200: StartPaymentResult } } },
    async (request) => deps.renewals.charge(request.body),
  );
  r.post(
    '/internal/v1/refunds',
    { ...opts, schema: { hide: true, body: RefundRequest, response: { 200: RefundAnswer } } },
    async (request) => deps.refunds.refund(request.body),
  );
  r.post(
    '/internal/v1/orders/:orderId/trace',
    { ...opts, schema: { hide: true, params: CloseParams, response: { 200: OrderTrace } } },
    async (request) => deps.payments.trace(request.params.orderId),
  );
  r.post(
    '/internal/v1/orders/:orderId/attempts/end',
    {
      ...opts,
      schema: { hide: true, params: CloseParams, body: EndAttemptRequest, response: { 200: EndAttemptAnswer } },
    },
    async (request) => deps.payments.endAttempt(request.params.orderId, request.body.attempt),
  );
  r.post(
    '/internal/v1/sms/of-orders',
    { ...opts, schema: { hide: true, body: OrdersSmsRequest, response: { 200: OrdersSms } } },
    async (request) => deps.payments.smsOfOrders(request.body.orderIds),
  );
  r.post(
    '/internal/v1/orders/:orderId/close',
    { ...opts, schema: { hide: true, params: CloseParams, response: { 200: CloseAnswer } } },
    async (request) => deps.payments.close(request.params.orderId),
  );
}

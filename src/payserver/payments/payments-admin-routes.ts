import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { QueryLimit } from '../../lib/http/schemas.ts';
import type { PayserverDb } from '../schema.ts';
import { listPayments, type PaymentQuery as PaymentQueryInput } from './payments-list.ts';

const Nullable = (t: ReturnType<typeof Type.String>) => Type.Union([t, Type.Null()]);

/** Where a payment or a refund stands and since when, in the same order in both answers. */
const OUTCOME = { status: Type.String(), failureCode: Nullable(Type.String()), createdAt: Type.String() };

const RefundView = Type.Object({
  refundId: Type.String(),
  amountMinor: Type.Integer(),
  currency: Type.String(),
  source: Nullable(Type.String()),
  ...OUTCOME,
});
const PaymentView = Type.Object({
  paymentId: Type.String(),
  orderId: Type.String(),
  attempt: Type.Integer(),
  method: Type.String(),
  phone: Type.String(),
  accountId: Nullable(Type.String()),
  source: Nullable(Type.String()),
  amountMinor: Type.Integer(),
  refundedMinor: Type.Integer(),
  currency: Type.String(),
  ...OUTCOME,
  completedAt: Nullable(Type.String()),
  /** The money rail's trade that pays it (a scan or rail-page payment), else null. */
  railTrade: Type.Union([
    Type.Object({
      rail: Type.String(),
      outTradeNo: Type.String(),
      providerTradeNo: Nullable(Type.String()),
      state: Type.String(),
    }),
    Type.Null(),
  ]),
  refunds: Type.Array(RefundView),
});

const Id = Type.String({ minLength: 1, maxLength: 64 });
const PaymentQuery = Type.Object(
  {
    orderId: Type.Optional(Id),
    paymentId: Type.Optional(Id),
    phone: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
    status: Type.Optional(
      Type.Union(['pending', 'captured', 'failed', 'released', 'refunded'].map((s) => Type.Literal(s))),
    ),
    source: Type.Optional(Type.String({ pattern: '^[a-z_]{1,16}$' })),
    before: Type.Optional(Id),
    limit: Type.Optional(QueryLimit),
  },
  { additionalProperties: false },
);

/**
 * The wallet provider's payments, each with its refunds (API "Listing and tracing"): an order's,
 * or all of them newest first, found by payment id or phone and filtered by status or source.
 */
export function adminPaymentRoutes(app: FastifyInstance, db: PayserverDb, regions: readonly string[]): void {
  app
    .withTypeProvider<TypeBoxTypeProvider>()
    .get(
      '/admin/v1/payments',
      { schema: { querystring: PaymentQuery, response: { 200: Type.Array(PaymentView) } } },
      async (request) =>
        listPayments(db, regions, {
          ...(request.query as Omit<PaymentQueryInput, 'limit'>),
          limit: request.query.limit === undefined ? undefined : Number(request.query.limit),
        }),
    );
}

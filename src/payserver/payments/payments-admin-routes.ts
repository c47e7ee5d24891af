import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { refundStore } from '../refunds/refund-store.ts';
import type { PayserverDb } from '../schema.ts';
import { paymentStore } from './payment-store.ts';

const Nullable = (t: ReturnType<typeof Type.String>) => Type.Union([t, Type.Null()]);

const RefundView = Type.Object({
  refundId: Type.String(),
  amountMinor: Type.Integer(),
  currency: Type.String(),
  source: Nullable(Type.String()),
  status: Type.String(),
  failureCode: Nullable(Type.String()),
  createdAt: Type.String(),
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
  status: Type.String(),
  failureCode: Nullable(Type.String()),
  createdAt: Type.String(),
  completedAt: Nullable(Type.String()),
  refunds: Type.Array(RefundView),
});

/** The wallet provider's view of an order's payments, each with its refunds (API "Listing and tracing"). */
export function adminPaymentRoutes(app: FastifyInstance, db: PayserverDb): void {
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/admin/v1/payments',
    {
      schema: {
        querystring: Type.Object(
          { orderId: Type.String({ minLength: 1, maxLength: 64 }) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(PaymentView) },
      },
    },
    async (request) => {
      const payments = await paymentStore.ofOrder(db, request.query.orderId);
      const refunds = await refundStore.ofOrder(db, request.query.orderId);
      return payments.map((p) => ({
        paymentId: p.id,
        orderId: p.order_id,
        attempt: p.attempt,
        method: p.method,
        phone: p.phone,
        accountId: p.account_id,
        source: p.source,
        amountMinor: Number(p.amount_minor),
        refundedMinor: Number(p.refunded_minor),
        currency: p.currency,
        status: p.status,
        failureCode: p.failure_code,
        createdAt: p.created_at,
        completedAt: p.completed_at,
        refunds: refunds
          .filter((r) => r.payment_id === p.id)
          .map((r) => ({
            refundId: r.id,
            amountMinor: Number(r.amount_minor),
            currency: r.currency,
            source: r.source,
            status: r.status,
            failureCode: r.failure_code,
            createdAt: r.created_at,
          })),
      }));
    },
  );
}

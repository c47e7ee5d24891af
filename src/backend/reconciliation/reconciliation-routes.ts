import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { isCalendarDate } from '../../lib/business-day.ts';
import { DomainError } from '../../lib/errors.ts';
import { IdempotencyHeaders } from '../../lib/http/schemas.ts';
import type { ReconciliationService } from './reconciliation-service.ts';

const ReconciliationSchema = Type.Object({
  date: Type.String(),
  matched: Type.Integer(),
  repaired: Type.Array(Type.Object({ orderId: Type.String(), paymentId: Type.String(), action: Type.String() })),
  mismatches: Type.Array(
    Type.Object({ kind: Type.String(), orderId: Type.String(), paymentId: Type.String(), detail: Type.String() }),
  ),
  ranAt: Type.String(),
});

/** Operators' reconciliation with the payment server (API "Reconciliation"). */
export function adminReconciliationRoutes(app: FastifyInstance, reconciliation: ReconciliationService): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.post(
    '/admin/v1/reconciliations',
    {
      schema: {
        headers: IdempotencyHeaders,
        body: Type.Object(
          { date: Type.String({ maxLength: 10, description: 'YYYY-MM-DD in TVPAY_BUSINESS_TIMEZONE' }) },
          { additionalProperties: false },
        ),
        response: { 200: ReconciliationSchema },
      },
    },
    async (request) => {
      if (!isCalendarDate(request.body.date))
        throw new DomainError(
          'VALIDATION_FAILED',
          `date "${request.body.date}" must be a calendar date written YYYY-MM-DD.`,
        );
      return reconciliation.run(request.body.date);
    },
  );
  r.get('/admin/v1/reconciliations', { schema: { response: { 200: Type.Array(ReconciliationSchema) } } }, async () =>
    reconciliation.latest(),
  );
}

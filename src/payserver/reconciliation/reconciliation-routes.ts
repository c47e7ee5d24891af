import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { isCalendarDate } from '../../lib/business-day.ts';
import { DomainError } from '../../lib/errors.ts';
import type { RailReconciliation } from './reconciliation.ts';

const Params = Type.Object({
  rail: Type.String({ maxLength: 32, description: 'alipay or wechatpay' }),
  date: Type.String({ maxLength: 10, description: 'YYYY-MM-DD, a business day in Asia/Shanghai' }),
});

/** The operator's reconciliation of a rail's bill of a day (admin scope): thin, the rules are the service's. */
export function reconciliationRoutes(admin: FastifyInstance, reconciliation: RailReconciliation): void {
  admin
    .withTypeProvider<TypeBoxTypeProvider>()
    .get('/admin/v1/rails/:rail/reconciliations/:date', { schema: { params: Params } }, async (request) => {
      const { rail, date } = request.params;
      if (!isCalendarDate(date))
        throw new DomainError(
          'VALIDATION_FAILED',
          `date "${date.slice(0, 20)}" must be a calendar date written YYYY-MM-DD.`,
        );
      return reconciliation.reconcile(rail, date);
    });
}

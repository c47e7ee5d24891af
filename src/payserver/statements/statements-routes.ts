import type { FastifyInstance, preHandlerHookHandler } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { StatementRowSchema } from '../../contracts/provider-api.ts';
import { isCalendarDate } from '../../lib/business-day.ts';
import { DomainError } from '../../lib/errors.ts';
import type { PayserverDb } from '../schema.ts';
import { statementCsv, statementOf } from './statements.ts';

const DateParams = Type.Object({
  date: Type.String({ maxLength: 10, description: 'YYYY-MM-DD in TVPAY_BUSINESS_TIMEZONE' }),
});

function checkedDate(date: string): string {
  if (!isCalendarDate(date))
    throw new DomainError(
      'VALIDATION_FAILED',
      `date "${date.slice(0, 20)}" must be a calendar date written YYYY-MM-DD.`,
    );
  return date;
}

/** The daily statement for the wallet provider: CSV, or JSON with ?format=json. */
export function statementRoutes(admin: FastifyInstance, db: PayserverDb, timeZone: string): void {
  admin.withTypeProvider<TypeBoxTypeProvider>().get(
    '/admin/v1/statements/:date',
    {
      schema: {
        params: DateParams,
        querystring: Type.Object(
          { format: Type.Optional(Type.Union([Type.Literal('csv'), Type.Literal('json')])) },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const rows = await statementOf(db, checkedDate(request.params.date), timeZone);
      if (request.query.format === 'json') return reply.type('application/json; charset=utf-8').send(rows);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="tvpay-statement-${request.params.date}.csv"`)
        .send(statementCsv(rows));
    },
  );
}

/** The same rows for the back-end's reconciliation (signed). */
export function statementInternalRoute(
  app: FastifyInstance,
  db: PayserverDb,
  timeZone: string,
  signed: preHandlerHookHandler,
): void {
  app.withTypeProvider<TypeBoxTypeProvider>().post(
    '/internal/v1/statements/:date',
    {
      preValidation: signed,
      schema: { hide: true, params: DateParams, response: { 200: Type.Array(StatementRowSchema) } },
    },
    async (request) => statementOf(db, checkedDate(request.params.date), timeZone),
  );
}

import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Kysely } from 'kysely';
import { Type } from 'typebox';
import type { CommonTables } from '../lib/db/common-tables.ts';
import { normalizePhone } from '../lib/phone.ts';

const SmsRow = Type.Object({
  smsId: Type.String(),
  kind: Type.String(),
  to: Type.String(),
  from: Type.String(),
  status: Type.String(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

/**
 * Operators see each SMS a service sent and its delivery state (queued →
 * sent → delivered | failed), newest first; never its text, which may hold a
 * code.
 */
export function smsAdminRoutes(app: FastifyInstance, db: Kysely<CommonTables>, regions: readonly string[]): void {
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/admin/v1/sms',
    {
      schema: {
        querystring: Type.Object(
          { phone: Type.Optional(Type.String({ maxLength: 32 })), status: Type.Optional(Type.Union(['queued', 'sent', 'delivered', 'failed'].map((s) => Type.Literal(s)))), limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$' })) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(SmsRow) },
      },
    },
    async (request) => {
      let q = db.selectFrom('sms_messages').selectAll().orderBy('created_at', 'desc').limit(Math.min(500, Number(request.query.limit ?? 100)));
      if (request.query.phone) q = q.where('to_phone', '=', normalizePhone(request.query.phone, regions));
      if (request.query.status) q = q.where('status', '=', request.query.status);
      const rows = await q.execute();
      return rows.map((r) => ({ smsId: r.id, kind: r.kind, to: r.to_phone, from: r.sender, status: r.status, createdAt: r.created_at, updatedAt: r.updated_at }));
    },
  );
}

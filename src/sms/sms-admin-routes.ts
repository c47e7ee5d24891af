import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Kysely } from 'kysely';
import { Type } from 'typebox';
import type { RateLimiter, RateRule } from '../lib/rate-limiter.ts';
import type { CommonTables } from '../lib/db/common-tables.ts';
import { normalizePhone } from '../lib/phone.ts';
import { smsLog } from './sms-log.ts';

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
          {
            phone: Type.Optional(Type.String({ maxLength: 32 })),
            status: Type.Optional(Type.Union(['queued', 'sent', 'delivered', 'failed'].map((s) => Type.Literal(s)))),
            limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(SmsRow) },
      },
    },
    async (request) => {
      const rows = await smsLog.list(db, {
        phone: request.query.phone ? normalizePhone(request.query.phone, regions) : undefined,
        status: request.query.status,
        limit: Math.min(500, Number(request.query.limit ?? 100)),
      });
      return rows.map((r) => ({
        smsId: r.id,
        kind: r.kind,
        to: r.to_phone,
        from: r.sender,
        status: r.status,
        createdAt: r.created_at,
        updatedAt: r.updated_at,
      }));
    },
  );
}

/**
 * The day's SMS budget (the circuit breaker on new SMS payments), for
 * operators: how much is used, and whether new SMS payments are refused.
 */
export function smsBudgetRoute(app: FastifyInstance, limiter: RateLimiter, rule: RateRule): void {
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/admin/v1/sms/budget',
    {
      schema: {
        response: {
          200: Type.Object({
            windowStart: Type.String(),
            used: Type.Integer(),
            budget: Type.Integer(),
            tripped: Type.Boolean(),
          }),
        },
      },
    },
    async () => {
      const { windowStart, hits } = await limiter.usage(SMS_BUDGET_BUCKET, rule);
      const used = Math.min(hits, rule.limit);
      return { windowStart, used, budget: rule.limit, tripped: used >= rule.limit };
    },
  );
}

/** The rate-limit bucket that counts the day's SMS payments. */
export const SMS_BUDGET_BUCKET = 'sms-budget';

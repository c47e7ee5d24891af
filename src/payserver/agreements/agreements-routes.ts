import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { PhoneInput, QueryLimit } from '../../lib/http/schemas.ts';
import { normalizePhone } from '../../lib/phone.ts';
import type { Agreements } from './agreements.ts';

const AgreementView = Type.Object({
  externalAgreementNo: Type.String(),
  rail: Type.String(),
  phone: Type.String(),
  status: Type.Union([Type.Literal('signing'), Type.Literal('active'), Type.Literal('ended')]),
  agreementNo: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
  signedAt: Type.Union([Type.String(), Type.Null()]),
  endedAt: Type.Union([Type.String(), Type.Null()]),
  endedBy: Type.Union([Type.String(), Type.Null()]),
});

/**
 * The wallet provider's agreements at the rails (admin token): a phone's or the newest, and ending one
 * (unsigned at its rail first). Thin: the rules are Agreements'.
 */
export function agreementsRoutes(
  app: FastifyInstance,
  agreements: Pick<Agreements, 'list' | 'end'>,
  regions: readonly string[],
): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get(
    '/admin/v1/agreements',
    {
      schema: {
        querystring: Type.Object(
          { phone: Type.Optional(PhoneInput), limit: Type.Optional(QueryLimit) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(AgreementView) },
      },
    },
    async (request) => {
      const { phone, limit } = request.query;
      return agreements.list({
        ...(phone ? { phone: normalizePhone(phone, regions) } : {}),
        limit: Number(limit ?? 50),
      });
    },
  );
  r.post(
    '/admin/v1/agreements/:externalAgreementNo/end',
    {
      schema: {
        params: Type.Object({ externalAgreementNo: Type.String({ pattern: '^[A-Za-z0-9]{1,32}$' }) }),
        response: { 200: AgreementView },
      },
    },
    async (request) => agreements.end(request.params.externalAgreementNo),
  );
}

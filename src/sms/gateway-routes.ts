import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Kysely } from 'kysely';
import { Type, type TProperties } from 'typebox';
import type { Clock } from '../lib/clock.ts';
import type { CommonTables } from '../lib/db/common-tables.ts';
import { unauthorized } from '../lib/errors.ts';
import { secretEquals } from '../lib/ids.ts';
import { dlrStatus } from './kannel-gateway.ts';
import { smsLog } from './sms-log.ts';
import type { Count } from '../lib/metrics/service-metrics.ts';

/**
 * A gateway call's route options: hidden from the API docs, and its query string carries the gateway's
 * token (checked by the handler) besides the call's own `fields`.
 */
const gatewayQuery = <F extends TProperties>(fields: F) => ({
  schema: {
    hide: true,
    querystring: Type.Object({ token: Type.Optional(Type.String({ maxLength: 200 })), ...fields }),
  },
});

/**
 * Where an SMS gateway hands over what comes from phones: replies (Kannel's
 * sms-service get-url with %p, %P, %a) and delivery reports (dlr-url with %d).
 * Both answer 200 with an empty body, so the gateway texts nothing back.
 */
export function smsGatewayRoutes(
  app: FastifyInstance,
  deps: {
    db: Kysely<CommonTables>;
    inboundToken: string;
    clock: Clock;
    onReply?: (from: string, text: string) => Promise<unknown>;
    /** Called once when an SMS is reported undelivered. */
    onUndelivered?: (smsId: string) => Promise<unknown>;
    /** Counts the SMS that reach a final state (the service's metrics). */
    count?: Count;
  },
): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const checkToken = (token: string | undefined) => {
    if (!token || !secretEquals(token, deps.inboundToken)) throw unauthorized('The gateway token is missing or wrong.');
  };
  if (deps.onReply) {
    const onReply = deps.onReply;
    r.get(
      '/v1/sms/inbound',
      gatewayQuery({
        from: Type.String({ maxLength: 40 }),
        to: Type.Optional(Type.String({ maxLength: 40 })),
        text: Type.String({ maxLength: 2000 }),
      }),
      async (request, reply) => {
        checkToken(request.query.token);
        await onReply(request.query.from, request.query.text);
        return reply.code(200).type('text/plain; charset=utf-8').send('');
      },
    );
  }
  r.get(
    '/v1/sms/dlr',
    gatewayQuery({ id: Type.String({ maxLength: 64 }), status: Type.String({ pattern: '^[0-9]{1,3}$' }) }),
    async (request, reply) => {
      checkToken(request.query.token);
      const status = dlrStatus(Number(request.query.status));
      if (status && (await smsLog.report(deps.db, request.query.id, status, deps.clock.now(), deps.count)))
        await deps.onUndelivered?.(request.query.id);
      return reply.code(200).type('text/plain; charset=utf-8').send('');
    },
  );
}

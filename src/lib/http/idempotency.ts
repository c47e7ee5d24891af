import type { FastifyReply, FastifyRequest, onSendHookHandler, preHandlerHookHandler } from 'fastify';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.ts';
import type { CommonTables } from '../db/common-tables.ts';
import { DomainError } from '../errors.ts';
import { sha256 } from '../ids.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Fields of the answer that carry a secret shown once (a device token):
     * they are never stored with the idempotency key, and a replay says the
     * thing was created without showing the secret again.
     */
    secretFields?: readonly string[];
  }
  interface FastifyRequest {
    /** Who is calling ("device:…", "admin"), set by the authentication hook. */
    principal?: string;
    idempotency?: { scope: string; key: string };
  }
}

export const IDEMPOTENCY_HEADER = 'idempotency-key';

/** The answer as it may be stored and replayed: the secret fields removed, and a word on why. */
function withoutSecrets(body: string, fields: readonly string[]): string {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(body) as Record<string, unknown>;
  } catch {
    return JSON.stringify({ detail: 'Created by the first request with this Idempotency-Key.' });
  }
  for (const f of fields) delete parsed[f];
  parsed.detail = `Created by the first request with this Idempotency-Key; ${fields.join(', ')} ${fields.length > 1 ? 'were' : 'was'} shown only in that answer.`;
  return JSON.stringify(parsed);
}

/**
 * Route hooks that honour `Idempotency-Key` on a POST: scoped to the caller
 * and the route, the same key and body replay the first answer, another body
 * is 422, a key whose first request is still running is 409. Answers with a
 * 5xx are forgotten so the client may retry.
 */
// eslint-disable-next-line max-lines-per-function -- 107 lines; to be split into named pieces (issue 29)
export function idempotencyHooks(
  db: Kysely<CommonTables>,
  clock: Clock,
  options: { idempotencyRunningSeconds: number } = { idempotencyRunningSeconds: 60 },
): { preHandler: preHandlerHookHandler; onSend: onSendHookHandler } {
  // eslint-disable-next-line max-lines-per-function -- 81 lines; to be split into named pieces (issue 29)
  const preHandler = async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.method !== 'POST') return;
    const raw = request.headers[IDEMPOTENCY_HEADER];
    if (raw === undefined) return;
    const key = Array.isArray(raw) ? (raw[0] ?? '') : raw;
    if (key.length < 1 || key.length > 255) {
      throw new DomainError('IDEMPOTENCY_KEY_INVALID', 'The Idempotency-Key header must be 1 to 255 characters.');
    }
    const scope = `${request.principal ?? 'anonymous'} ${request.routeOptions.url} ${JSON.stringify(request.params ?? {})}`;
    const requestHash = sha256(JSON.stringify(request.body ?? null));
    const claim = async () => {
      const inserted = await db
        .insertInto('idempotency_keys')
        .values({
          scope,
          idem_key: key,
          request_hash: requestHash,
          state: 'running',
          response_status: null,
          response_body: null,
          created_at: clock.now().toISOString(),
        })
        .onConflict((oc) => oc.columns(['scope', 'idem_key']).doNothing())
        .executeTakeFirst();
      return Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 1;
    };
    if (await claim()) {
      request.idempotency = { scope, key };
      return;
    }
    let prior = await db
      .selectFrom('idempotency_keys')
      .selectAll()
      .where('scope', '=', scope)
      .where('idem_key', '=', key)
      .executeTakeFirst();
    // A key left running by a process that died is released after a while, so the client's retry can run.
    const stale = new Date(clock.now().getTime() - options.idempotencyRunningSeconds * 1000).toISOString();
    if (prior && prior.state === 'running' && prior.created_at < stale) {
      await db
        .deleteFrom('idempotency_keys')
        .where('scope', '=', scope)
        .where('idem_key', '=', key)
        .where('state', '=', 'running')
        .where('created_at', '=', prior.created_at)
        .execute();
      if (await claim()) {
        request.idempotency = { scope, key };
        return;
      }
      prior = await db
        .selectFrom('idempotency_keys')
        .selectAll()
        .where('scope', '=', scope)
        .where('idem_key', '=', key)
        .executeTakeFirst();
    }
    if (!prior)
      throw new DomainError(
        'IDEMPOTENCY_KEY_IN_USE',
        'A request with this Idempotency-Key is still being processed; retry shortly.',
      );
    if (prior.request_hash !== requestHash) {
      throw new DomainError(
        'IDEMPOTENCY_KEY_REUSED',
        'This Idempotency-Key was already used with a different request body; use a new key.',
      );
    }
    if (prior.state !== 'done') {
      throw new DomainError(
        'IDEMPOTENCY_KEY_IN_USE',
        'A request with this Idempotency-Key is still being processed; retry shortly.',
      );
    }
    const body = prior.response_body ?? '';
    const isProblem = (prior.response_status ?? 200) >= 400;
    return reply
      .code(prior.response_status ?? 200)
      .header('idempotent-replayed', 'true')
      .type(isProblem ? 'application/problem+json; charset=utf-8' : 'application/json; charset=utf-8')
      .send(body);
  };

  const onSend = async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const idem = request.idempotency;
    if (!idem) return payload;
    request.idempotency = undefined;
    const where = db.updateTable('idempotency_keys').where('scope', '=', idem.scope).where('idem_key', '=', idem.key);
    if (reply.statusCode >= 500) {
      await db
        .deleteFrom('idempotency_keys')
        .where('scope', '=', idem.scope)
        .where('idem_key', '=', idem.key)
        .execute();
    } else {
      const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
      const secretFields = request.routeOptions.config?.secretFields;
      const stored = secretFields && reply.statusCode < 400 ? withoutSecrets(body, secretFields) : body;
      await where.set({ state: 'done', response_status: reply.statusCode, response_body: stored }).execute();
    }
    return payload;
  };

  return { preHandler, onSend };
}

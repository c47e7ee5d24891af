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
  parsed.detail =
    `Created by the first request with this Idempotency-Key; ` +
    `${fields.join(', ')} ${fields.length > 1 ? 'were' : 'was'} shown only in that answer.`;
  return JSON.stringify(parsed);
}

type KeyRow = CommonTables['idempotency_keys'];

/** The reads and writes of `idempotency_keys` the hooks make, each one statement. */
function keyStore(db: Kysely<CommonTables>, clock: Clock) {
  const row = (scope: string, key: string) =>
    db.selectFrom('idempotency_keys').where('scope', '=', scope).where('idem_key', '=', key);
  return {
    /** Takes the key for this request (state `running`); false when a request already has it. */
    async claim(scope: string, key: string, requestHash: string): Promise<boolean> {
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
    },
    read: (scope: string, key: string): Promise<KeyRow | undefined> => row(scope, key).selectAll().executeTakeFirst(),
    /** Releases a key still `running` since `createdAt` (its process died): the client's retry may then run. */
    async releaseStale(scope: string, key: string, createdAt: string): Promise<void> {
      await db
        .deleteFrom('idempotency_keys')
        .where('scope', '=', scope)
        .where('idem_key', '=', key)
        .where('state', '=', 'running')
        .where('created_at', '=', createdAt)
        .execute();
    },
    async forget(scope: string, key: string): Promise<void> {
      await db.deleteFrom('idempotency_keys').where('scope', '=', scope).where('idem_key', '=', key).execute();
    },
    async done(scope: string, key: string, status: number, body: string): Promise<void> {
      await db
        .updateTable('idempotency_keys')
        .where('scope', '=', scope)
        .where('idem_key', '=', key)
        .set({ state: 'done', response_status: status, response_body: body })
        .execute();
    },
  };
}

/** The key a POST carries, or undefined; one out of bounds is refused. */
function keyOf(request: FastifyRequest): string | undefined {
  if (request.method !== 'POST') return undefined;
  const raw = request.headers[IDEMPOTENCY_HEADER];
  if (raw === undefined) return undefined;
  const key = Array.isArray(raw) ? (raw[0] ?? '') : raw;
  if (key.length < 1 || key.length > 255)
    throw new DomainError('IDEMPOTENCY_KEY_INVALID', 'The Idempotency-Key header must be 1 to 255 characters.');
  return key;
}

/** What a key already taken by an earlier request answers now: its stored answer, or why not. */
function replay(reply: FastifyReply, prior: KeyRow | undefined, requestHash: string) {
  const inUse = () =>
    new DomainError(
      'IDEMPOTENCY_KEY_IN_USE',
      'A request with this Idempotency-Key is still being processed; retry shortly.',
    );
  if (!prior) throw inUse();
  if (prior.request_hash !== requestHash)
    throw new DomainError(
      'IDEMPOTENCY_KEY_REUSED',
      'This Idempotency-Key was already used with a different request body; use a new key.',
    );
  if (prior.state !== 'done') throw inUse();
  const isProblem = (prior.response_status ?? 200) >= 400;
  return reply
    .code(prior.response_status ?? 200)
    .header('idempotent-replayed', 'true')
    .type(isProblem ? 'application/problem+json; charset=utf-8' : 'application/json; charset=utf-8')
    .send(prior.response_body ?? '');
}

/**
 * Route hooks that honour `Idempotency-Key` on a POST: scoped to the caller
 * and the route, the same key and body replay the first answer, another body
 * is 422, a key whose first request is still running is 409. Answers with a
 * 5xx are forgotten so the client may retry.
 */
export function idempotencyHooks(
  db: Kysely<CommonTables>,
  clock: Clock,
  options: { idempotencyRunningSeconds: number } = { idempotencyRunningSeconds: 60 },
): { preHandler: preHandlerHookHandler; onSend: onSendHookHandler } {
  const keys = keyStore(db, clock);
  const preHandler = async (request: FastifyRequest, reply: FastifyReply) => {
    const key = keyOf(request);
    if (key === undefined) return;
    const scope =
      `${request.principal ?? 'anonymous'} ${request.routeOptions.url} ` + `${JSON.stringify(request.params ?? {})}`;
    const requestHash = sha256(JSON.stringify(request.body ?? null));
    if (await keys.claim(scope, key, requestHash)) return void (request.idempotency = { scope, key });
    let prior = await keys.read(scope, key);
    // A key left running by a process that died is released after a while, so the client's retry can run.
    const stale = new Date(clock.now().getTime() - options.idempotencyRunningSeconds * 1000).toISOString();
    if (prior && prior.state === 'running' && prior.created_at < stale) {
      await keys.releaseStale(scope, key, prior.created_at);
      if (await keys.claim(scope, key, requestHash)) return void (request.idempotency = { scope, key });
      prior = await keys.read(scope, key);
    }
    return replay(reply, prior, requestHash);
  };

  const onSend = async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const idem = request.idempotency;
    if (!idem) return payload;
    request.idempotency = undefined;
    if (reply.statusCode >= 500) {
      await keys.forget(idem.scope, idem.key);
    } else {
      const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
      const secretFields = request.routeOptions.config?.secretFields;
      const stored = secretFields && reply.statusCode < 400 ? withoutSecrets(body, secretFields) : body;
      await keys.done(idem.scope, idem.key, reply.statusCode, stored);
    }
    return payload;
  };

  return { preHandler, onSend };
}

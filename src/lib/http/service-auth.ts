import { correlation, CORRELATION_HEADER } from '../correlation.ts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.ts';
import type { CommonTables } from '../db/common-tables.ts';
import { DomainError } from '../errors.ts';
import { preparedQuery } from '../db/prepared-query.ts';
import { cryptoRandom } from '../ids.ts';
import type { PeerTransport } from './peer-transport.ts';
import { MAX_SIGNATURE_AGE_MS, signRequest, verifyRequest } from '../signing.ts';

// Every signed message records its nonce: built and compiled once (preparedQuery).
const recordNonce = preparedQuery((db: Kysely<CommonTables>, nonce: string, seenAt: string) =>
  db
    .insertInto('seen_nonces')
    .values({ nonce, seen_at: seenAt })
    .onConflict((oc) => oc.column('nonce').doNothing()),
);

/**
 * A preHandler that admits only messages signed by a peer service: a valid
 * HMAC over timestamp, nonce, method, path and body, not stale, and whose
 * nonce has not been seen (so a captured message cannot be replayed).
 */
export function requireServiceSignature(db: Kysely<CommonTables>, secret: string, clock: Clock) {
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    // Signed messages are JSON, signed over their exact bytes: a body of any other type was never covered.
    if (request.body !== undefined && request.rawBody === undefined) {
      throw new DomainError('UNSUPPORTED_MEDIA_TYPE', 'Signed messages are JSON: send Content-Type: application/json.');
    }
    const check = verifyRequest(
      secret,
      request.headers,
      request.method,
      request.url,
      request.rawBody ?? Buffer.alloc(0),
      clock.now(),
    );
    if (!check.ok) throw new DomainError('SIGNATURE_INVALID', check.reason);
    const inserted = await recordNonce(db, check.nonce, clock.now().toISOString());
    if (Number(inserted.numAffectedRows ?? 0n) !== 1) {
      throw new DomainError('SIGNATURE_REPLAYED', 'This signed message was already received.');
    }
    request.principal = 'service';
  };
}

export async function pruneNonces(db: Kysely<CommonTables>, clock: Clock): Promise<void> {
  const cutoff = new Date(clock.now().getTime() - 2 * MAX_SIGNATURE_AGE_MS).toISOString();
  await db.deleteFrom('seen_nonces').where('seen_at', '<', cutoff).execute();
}

/** The peer answered with an error status; `status` tells retryable (5xx) from refused (4xx). */
export class PeerError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`peer answered ${status}: ${JSON.stringify(body).slice(0, 300)}`);
  }

  /**
   * The peer refused the message itself (a 4xx other than 408 and 429):
   * sending the same message again cannot succeed, so the outbox gives up on it
   * (and logs it as an error) instead of retrying it for ever.
   */
  get permanent(): boolean {
    return this.status >= 400 && this.status < 500 && this.status !== 408 && this.status !== 429;
  }
}

/** The correlation id in force, as a header for a call to a peer. */
const correlationHeader = (): Record<string, string> => {
  const id = correlation.current();
  return id ? { [CORRELATION_HEADER]: id } : {};
};

/** Sends signed JSON messages to a peer service, over whichever transport reaches it. */
export class SignedClient {
  constructor(
    private readonly transport: PeerTransport,
    private readonly secret: string,
    private readonly clock: Clock,
    private readonly timeoutMs = 5000,
  ) {}

  post<T>(path: string, body: unknown): Promise<T> {
    return this.send<T>('POST', path, JSON.stringify(body));
  }

  /** A signed read: the signature covers the method, the path and an empty body. */
  get<T>(path: string): Promise<T> {
    return this.send<T>('GET', path, '');
  }

  private async send<T>(method: 'GET' | 'POST', path: string, text: string): Promise<T> {
    const headers = signRequest(this.secret, method, path, text, this.clock.now(), cryptoRandom.id('n').slice(2));
    const res = await this.transport({
      method,
      path,
      headers: {
        ...headers,
        ...(method === 'POST' ? { 'content-type': 'application/json' } : {}),
        ...correlationHeader(),
      },
      body: text,
      timeoutMs: this.timeoutMs,
    });
    const answer = res.text || 'null';
    let parsed: unknown;
    try {
      parsed = JSON.parse(answer);
    } catch {
      parsed = answer;
    }
    if (!res.ok) throw new PeerError(res.status, parsed);
    return parsed as T;
  }
}

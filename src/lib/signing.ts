import { createHmac, timingSafeEqual } from 'node:crypto';

/** Headers that carry a service-to-service signature. */
export const SIGNATURE_HEADERS = {
  timestamp: 'x-tvpay-timestamp',
  nonce: 'x-tvpay-nonce',
  signature: 'x-tvpay-signature',
} as const;

/** How old a signed message may be before it is refused (and how long nonces are remembered). */
export const MAX_SIGNATURE_AGE_MS = 5 * 60 * 1000;

/** The MAC over the message's parts and the body's exact bytes (a string is taken as its UTF-8). */
function mac(
  secret: string,
  timestamp: string,
  nonce: string,
  method: string,
  path: string,
  body: string | Buffer,
): string {
  return createHmac('sha256', secret)
    .update(`${timestamp}\n${nonce}\n${method.toUpperCase()}\n${path}\n`)
    .update(body)
    .digest('hex');
}

/** Signs one delivery attempt: a fresh timestamp and nonce each time, so a retry is never a replay. */
export function signRequest(
  secret: string,
  method: string,
  path: string,
  body: string,
  now: Date,
  nonce: string,
): Record<string, string> {
  const timestamp = String(Math.floor(now.getTime() / 1000));
  return {
    [SIGNATURE_HEADERS.timestamp]: timestamp,
    [SIGNATURE_HEADERS.nonce]: nonce,
    [SIGNATURE_HEADERS.signature]: `v1=${mac(secret, timestamp, nonce, method, path, body)}`,
  };
}

export type SignatureCheck = { ok: true; nonce: string } | { ok: false; reason: string };

/**
 * Checks a signature over timestamp, nonce, method, path and body. Stale or
 * future-dated (> 5 min) and altered messages fail; replays are caught by the
 * caller remembering the nonce.
 */
export function verifyRequest(
  secret: string,
  headers: Record<string, string | string[] | undefined>,
  method: string,
  path: string,
  body: string | Buffer,
  now: Date,
): SignatureCheck {
  const timestamp = headers[SIGNATURE_HEADERS.timestamp];
  const nonce = headers[SIGNATURE_HEADERS.nonce];
  const signature = headers[SIGNATURE_HEADERS.signature];
  if (typeof timestamp !== 'string' || typeof nonce !== 'string' || typeof signature !== 'string') {
    return { ok: false, reason: 'The message is not signed.' };
  }
  if (!/^\d{1,12}$/.test(timestamp) || !/^[A-Za-z0-9_-]{16,64}$/.test(nonce)) {
    return { ok: false, reason: 'The signature headers are malformed.' };
  }
  if (Math.abs(now.getTime() - Number(timestamp) * 1000) > MAX_SIGNATURE_AGE_MS) {
    return { ok: false, reason: 'The message is stale.' };
  }
  const expected = Buffer.from(`v1=${mac(secret, timestamp, nonce, method, path, body)}`);
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return { ok: false, reason: 'The signature does not match.' };
  }
  return { ok: true, nonce };
}

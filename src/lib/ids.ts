import { createHash, hash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

/**
 * Randomness is injected (like time) so tests can pin codes. The default
 * source is the CSPRNG; tokens carry 128+ bits so they cannot be guessed.
 */
export interface RandomSource {
  /** A prefixed, URL-safe id with 96 bits of randomness (unique, not secret). */
  id(prefix: string): string;
  /** A URL-safe secret with 256 bits of randomness. */
  token(prefix?: string): string;
  /** A 6-digit one-time code, uniformly drawn. */
  code(): string;
}

export const cryptoRandom: RandomSource = {
  id: (prefix) => `${prefix}_${randomBytes(12).toString('base64url')}`,
  token: (prefix = '') => `${prefix}${randomBytes(32).toString('base64url')}`,
  code: () => String(randomInt(0, 1_000_000)).padStart(6, '0'),
};

/** Node's one-shot hash: no Hash object per call (a TV's token is hashed on every request). */
export const sha256 = (s: string): string => hash('sha256', s, 'hex');

/** Compares two secrets in constant time (by their hashes, so lengths may differ). */
export function secretEquals(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

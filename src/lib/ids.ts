import { createHash, hash, randomBytes, randomFillSync, randomInt, timingSafeEqual } from 'node:crypto';

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

/**
 * CSPRNG bytes for ids, drawn 4 KiB at a time (as Node's randomUUID keeps its
 * entropy): one call into OpenSSL and no Buffer per id, where a checkout makes
 * dozens of ids (1–2% of its CPU went to drawing them one by one). No byte is
 * handed out twice. Secrets (`token`) are still drawn on their own, so that
 * none sits in memory before it exists.
 */
const idBytes = {
  pool: Buffer.alloc(4096),
  used: 4096,
  take(n: number): Buffer {
    if (this.used + n > this.pool.length) {
      randomFillSync(this.pool);
      this.used = 0;
    }
    return this.pool.subarray(this.used, (this.used += n));
  },
};

export const cryptoRandom: RandomSource = {
  id: (prefix) => `${prefix}_${idBytes.take(12).toString('base64url')}`,
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

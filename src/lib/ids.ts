import { createHash, hash, randomBytes, randomFillSync, randomInt, timingSafeEqual } from 'node:crypto';

/**
 * Randomness is injected (like time) so tests can pin codes. The default
 * source is the CSPRNG; tokens carry 128+ bits so they cannot be guessed.
 */
export interface RandomSource {
  /** A prefixed, URL-safe id, unique and not secret: the millisecond it was made, then 72 random bits. */
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

/** Base 62 in ASCII order, so that a stamp sorts as text where its number sorts. */
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const STAMP_CHARS = 8; // 62^8 ms: until the year 8888
let stampOf = -1;
let stamp = '';

/** The millisecond as 8 base-62 characters (one conversion per millisecond, however many ids it makes). */
function timeStamp(ms: number): string {
  if (ms !== stampOf) {
    let s = '';
    for (let v = ms, i = 0; i < STAMP_CHARS; i++, v = Math.floor(v / 62)) s = BASE62[v % 62] + s;
    stampOf = ms;
    stamp = s;
  }
  return stamp;
}

/**
 * Ids begin with the millisecond they were made in, so that rows made
 * together sit together in their table's primary-key index: with random ids
 * each insert landed on a random page of it, and a renewal day's commit wrote
 * back hundreds of such pages (BENCHMARKS.md, an eighth sitting). The 72
 * random bits keep ids made in the same millisecond, on any instance, apart.
 */
export const cryptoRandom: RandomSource = {
  id: (prefix) => `${prefix}_${timeStamp(Date.now())}${idBytes.take(9).toString('base64url')}`,
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

import { createHmac } from 'node:crypto';

/**
 * The `Tvpay-Signature` header of a webhook (Stripe's scheme): `t=<unix
 * seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, keyed with the whole
 * secret string. A receiver recomputes it over the bytes it got and rejects
 * a `t` too far from its clock.
 */
export function signatureHeader(secret: string, body: string, at: Date): string {
  const t = Math.floor(at.getTime() / 1000);
  const v1 = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return `t=${t},v1=${v1}`;
}

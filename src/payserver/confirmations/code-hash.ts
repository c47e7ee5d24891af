import { createHmac } from 'node:crypto';

/**
 * A one-time code is stored only as this keyed hash, bound to what it
 * confirms (the payment or page session, the amount and the phone), so a
 * code for one payment can never confirm another and the stored value is
 * useless without the server's key.
 */
export function codeHash(
  key: string,
  boundTo: { id: string; amountMinor: number; phone: string },
  code: string,
): string {
  return createHmac('sha256', key)
    .update(`${boundTo.id}|${boundTo.amountMinor}|${boundTo.phone}|${code}`)
    .digest('hex');
}

import { minorDigits } from '../money-format.ts';

/**
 * An amount typed by a person ("20", "20.5", "20.00") in minor units of the currency, by string
 * arithmetic (no floating point); undefined when it is not such a number.
 */
export function parseAmount(text: string, currency: string): number | undefined {
  const digits = minorDigits(currency);
  const m = new RegExp(`^(\\d{1,9})(?:\\.(\\d{1,${Math.max(digits, 1)}}))?$`).exec(text.trim());
  if (!m || (digits === 0 && m[2])) return undefined;
  return Number(m[1]) * 10 ** digits + Number((m[2] ?? '').padEnd(digits, '0') || 0);
}

import {
  getCountries,
  getCountryCallingCode,
  parsePhoneNumberFromString,
  type CountryCode,
} from 'libphonenumber-js/max';
import { badRequest } from './errors.ts';

/** A phone number normalised to E.164, e.g. "+8613800138000". */
export type E164 = string & { readonly __brand: 'E164' };

const MOBILE_TYPES = new Set(['MOBILE', 'FIXED_LINE_OR_MOBILE']);

/**
 * Normalises a phone number as a person or a gateway writes it ("13800138000",
 * "+86 138 0013 8000", "8613800138000", "0086…", full-width digits) to E.164.
 * Only mobile numbers of the accepted regions pass: codes and links go by SMS.
 */
export function normalizePhone(input: unknown, regions: readonly string[]): E164 {
  if (typeof input !== 'string' || input.trim() === '' || input.length > 32) {
    throw badRequest('PHONE_INVALID', 'Give the phone number as a string, e.g. "13800138000" or "+86 138 0013 8000".');
  }
  let text = input.normalize('NFKC').trim();
  if (text.startsWith('00')) text = `+${text.slice(2)}`;
  const defaultRegion = regions[0] as CountryCode | undefined;
  let parsed = parsePhoneNumberFromString(text, defaultRegion);
  if ((!parsed || !parsed.isValid()) && /^\d{8,15}$/.test(text)) parsed = parsePhoneNumberFromString(`+${text}`);
  if (!parsed || !parsed.isValid()) {
    throw badRequest('PHONE_INVALID', `"${input}" is not a valid phone number.`);
  }
  if (!parsed.country || !regions.includes(parsed.country)) {
    throw badRequest(
      'PHONE_INVALID',
      `Phone numbers from ${parsed.country ?? 'that region'} are not accepted here; accepted: ${regions.join(', ')}.`,
    );
  }
  const type = parsed.getType();
  if (!type || !MOBILE_TYPES.has(type)) {
    throw badRequest(
      'PHONE_INVALID',
      `${parsed.number} is not a mobile number; a mobile is needed to receive the SMS.`,
    );
  }
  return parsed.number as E164;
}

/**
 * Every country calling code; E.164 makes them a prefix code (no code begins another), so the first that an E.164
 * number begins with is its own.
 */
const CALLING_CODES = new Set<string>(getCountries().map((c) => getCountryCallingCode(c)));

/**
 * An E.164 number's calling code and national number, by the prefix code alone: about 0.5 µs a number where a parse
 * with the metadata took 10–11 µs (measured on the bench machine).
 */
function splitE164(e164: string): { cc: string; national: string } {
  const digits = e164.replace(/^\+/, '');
  for (let k = 1; k <= 3; k++)
    if (CALLING_CODES.has(digits.slice(0, k))) return { cc: digits.slice(0, k), national: digits.slice(k) };
  const parsed = parsePhoneNumberFromString(e164); // a non-geographic code (+800 …), which tvpay never stores
  return { cc: parsed?.countryCallingCode ?? '', national: parsed?.nationalNumber ?? digits };
}

/**
 * "+8613800138000" → "+86 138****8000": what a TV may show. Every order view
 * with a payer masks one, and a waiting TV reads its order every second or two.
 */
export function maskPhone(e164: string): string {
  const { cc, national } = splitE164(e164);
  const head = national.slice(0, 3);
  const tail = national.slice(-4);
  return `+${cc} ${head}${'*'.repeat(Math.max(0, national.length - 7))}${tail}`;
}

/** "+8613800138000" → "8613800138000", the form used in URL paths. */
export const phoneDigits = (e164: string): string => e164.replace(/^\+/, '');

const GSM7_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM7_EXTENDED = '^{}\\[~]|€\f';

/** Whether a text can go in the GSM 03.38 7-bit alphabet (otherwise it is sent as UCS-2). */
export function isGsm7(text: string): boolean {
  for (const ch of text) if (!GSM7_BASIC.includes(ch) && !GSM7_EXTENDED.includes(ch)) return false;
  return true;
}

/** Length in encoding units: septets for GSM-7 (extended characters count twice), UTF-16 units for UCS-2. */
export function smsLength(text: string): { encoding: 'gsm7' | 'ucs2'; units: number } {
  if (isGsm7(text)) {
    let units = 0;
    for (const ch of text) units += GSM7_EXTENDED.includes(ch) ? 2 : 1;
    return { encoding: 'gsm7', units };
  }
  return { encoding: 'ucs2', units: text.length };
}

/**
 * Units per SMS: one SMS holds 160 septets (GSM-7) or 70 UTF-16 units
 * (UCS-2); each part of a concatenated one holds 153 or 67 (the rest is the
 * concatenation header). The one copy of these limits.
 */
export const SEGMENT_UNITS = { gsm7: { single: 160, multi: 153 }, ucs2: { single: 70, multi: 67 } } as const;

const unitsOf = (encoding: 'gsm7' | 'ucs2', ch: string) =>
  encoding === 'gsm7' && GSM7_EXTENDED.includes(ch) ? 2 : encoding === 'gsm7' ? 1 : ch.length;

/** How many SMS a text takes. */
export function countSegments(text: string): number {
  const { encoding, units } = smsLength(text);
  const { single, multi } = SEGMENT_UNITS[encoding];
  if (units <= single) return 1;
  return Math.ceil(units / multi);
}

/**
 * Splits a text into the parts of a concatenated SMS, never inside a
 * character (an extended GSM character or a surrogate pair stays whole).
 */
export function splitSegments(text: string): { encoding: 'gsm7' | 'ucs2'; parts: string[] } {
  const { encoding, units } = smsLength(text);
  const { single, multi } = SEGMENT_UNITS[encoding];
  if (units <= single) return { encoding, parts: [text] };
  const parts: string[] = [];
  let part = '';
  let used = 0;
  for (const ch of text) {
    const n = unitsOf(encoding, ch);
    if (used + n > multi) {
      parts.push(part);
      part = '';
      used = 0;
    }
    part += ch;
    used += n;
  }
  if (part) parts.push(part);
  return { encoding, parts };
}

/** The most units that fit in `segments` SMS for a text of this encoding. */
export function capacity(encoding: 'gsm7' | 'ucs2', segments: number): number {
  const { single, multi } = SEGMENT_UNITS[encoding];
  return segments === 1 ? single : multi * segments;
}

const GSM7_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
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

/** How many SMS a text takes: 160/153 septets for GSM-7, 70/67 characters for UCS-2. */
export function countSegments(text: string): number {
  const { encoding, units } = smsLength(text);
  const [single, multi] = encoding === 'gsm7' ? [160, 153] : [70, 67];
  if (units <= single) return 1;
  return Math.ceil(units / multi);
}

/** The most units that fit in `segments` SMS for a text of this encoding. */
export function capacity(encoding: 'gsm7' | 'ucs2', segments: number): number {
  const [single, multi] = encoding === 'gsm7' ? [160, 153] : [70, 67];
  return segments === 1 ? single : multi * segments;
}

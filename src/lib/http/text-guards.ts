/**
 * Guards that run on every request before anything walks or stores its
 * input: JSON nested deeper than a person would write is refused before it
 * is parsed (a 10 KB body 5,000 levels deep overflows the stack of anything
 * recursive, JSON.stringify included), and text that is not well-formed
 * Unicode (a lone UTF-16 surrogate, which no UTF-8 can carry) is refused
 * before it reaches a database or an SMS.
 */

/** How deep a JSON body may nest; tvpay's own bodies nest two levels. */
export const MAX_JSON_DEPTH = 32;

/** Whether the JSON text nests arrays and objects deeper than `max`, by one pass over its characters. */
export function jsonTooDeep(text: string, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether a string holds a lone surrogate (is not well-formed UTF-16). */
export function illFormed(text: string): boolean {
  return LONE_SURROGATE.test(text);
}

/**
 * The path of the first string (or key) in `value` that is not well-formed,
 * or undefined; `value` is a parsed body, query or params, already bounded in
 * depth and size.
 */
export function findIllFormed(value: unknown, path = ''): string | undefined {
  if (typeof value === 'string') return illFormed(value) ? path || '(the value)' : undefined;
  if (value === null || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findIllFormed(value[i], `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  for (const [k, v] of Object.entries(value)) {
    if (illFormed(k)) return `${path ? `${path}.` : ''}(a field name)`;
    const found = findIllFormed(v, path ? `${path}.${k}` : k);
    if (found) return found;
  }
  return undefined;
}

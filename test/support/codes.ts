import assert from 'node:assert/strict';

/** The 6-digit one-time code in an SMS, as a person would read it (not part of a longer number). */
export function codeIn(text: string): string {
  const m = /(?<!\d)(\d{6})(?!\d)/.exec(text);
  assert.ok(m, `no code in "${text}"`);
  return m[1]!;
}

const sixDigitRuns = (s: string) => (s.match(/\d+/g) ?? []).filter((r) => r.length === 6);

/**
 * Finds the 6-digit code in an SMS reply, leniently: full-width digits,
 * spaces or dashes inside the code, and words around it ("确认 384912",
 * "３８４ ９１２", "ok 384-912 thanks"). Returns null unless exactly one
 * code is found, so an ambiguous reply is never guessed at.
 */
export function parseReplyCode(text: string): string | null {
  const normalized = text.normalize('NFKC');
  const plain = sixDigitRuns(normalized);
  if (plain.length === 1) return plain[0]!;
  if (plain.length > 1) return null;
  const joined = sixDigitRuns(normalized.replace(/(\d)[\s\-‐‑–—.]+(?=\d)/g, '$1'));
  return joined.length === 1 ? joined[0]! : null;
}

/** The replies that cancel renewals: TD (any case, full-width too), 取消, 取消续费, 退订, alone in the reply. */
const CANCEL_WORDS = new Set(['TD', '取消', '取消续费', '退订', '取消自动续费']);

export function isCancelReply(text: string): boolean {
  const t = text
    .normalize('NFKC')
    .trim()
    .replace(/[\s。.!！]+$/u, '')
    .toUpperCase();
  return CANCEL_WORDS.has(t);
}

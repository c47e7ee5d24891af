/** A line of `GET /admin/v1/accounts/{accountId}/entries`. */
export interface LedgerLine {
  at: string;
  kind: string;
  source: string;
  amountMinor: number;
  ref: string;
}

/** A posting (credit, capture, refund) with the balance of its source right after it. */
export interface PostingRow extends LedgerLine {
  balanceAfterMinor: number;
}

/** A hold: what it reserved (positive), and whether it is still open, was captured or released. */
export interface HoldRow {
  at: string;
  source: string;
  amountMinor: number;
  ref: string;
  state: 'open' | 'captured' | 'released';
  resolvedAt: string | null;
}

/**
 * An account's entries as a wallet provider reads them: the postings that moved money, each with
 * the balance after it, apart from the holds that only reserved it. A hold and the capture that
 * took its money are one payment, not two; shown in one table they read as a double charge.
 * `balances` are the sources' balances now; `lines` come newest first, so each earlier balance is
 * the later one less the later posting.
 */
export function ledgerView(
  lines: LedgerLine[],
  balances: Record<string, number>,
): { postings: PostingRow[]; holds: HoldRow[] } {
  const running = { ...balances };
  const postings: PostingRow[] = [];
  for (const line of lines) {
    if (line.kind === 'hold' || line.kind === 'release') continue;
    const after = running[line.source] ?? 0;
    postings.push({ ...line, balanceAfterMinor: after });
    running[line.source] = after - line.amountMinor;
  }
  const holds: HoldRow[] = lines
    .filter((l) => l.kind === 'hold')
    .map((h) => {
      const released = lines.find((l) => l.kind === 'release' && l.ref === h.ref && l.source === h.source);
      const captured = lines.find((l) => l.kind === 'capture' && l.ref === h.ref && l.source === h.source);
      const end = released ?? captured;
      return {
        at: h.at,
        source: h.source,
        amountMinor: Math.abs(h.amountMinor),
        ref: h.ref,
        state: released ? 'released' : captured ? 'captured' : 'open',
        resolvedAt: end?.at ?? null,
      };
    });
  return { postings, holds };
}

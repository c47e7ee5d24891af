import type { PayserverDb } from '../schema.ts';

/** One line of an account's history: a hold, its release, or a journal posting (credit, capture, refund). */
export interface AccountEntry {
  at: string;
  kind: 'hold' | 'release' | 'credit' | 'capture' | 'refund' | string;
  source: 'wallet' | 'card';
  /** Signed: money into the account is positive; a hold is the amount it reserves, negative. */
  amountMinor: number;
  /** The payment or refund the line belongs to. */
  ref: string;
}

/**
 * An account's ledger entries newest first, for the wallet provider: the
 * postings on its wallet and card (credits, captures, refunds) and the holds
 * on them with their releases (a captured hold shows as its capture).
 */
export async function accountEntries(db: PayserverDb, accountId: string, limit = 200): Promise<AccountEntry[]> {
  const postings = await db
    .selectFrom('postings as p')
    .innerJoin('journal_entries as e', 'e.id', 'p.entry_id')
    .innerJoin('ledger_accounts as la', 'la.id', 'p.ledger_account_id')
    .select(['e.created_at as at', 'e.kind as kind', 'la.kind as source', 'p.amount_minor as amount', 'e.ref as ref'])
    .where('la.account_id', '=', accountId)
    .orderBy('e.created_at', 'desc')
    .limit(limit)
    .execute();
  const holds = await db
    .selectFrom('holds as h')
    .innerJoin('ledger_accounts as la', 'la.id', 'h.ledger_account_id')
    .select(['h.created_at', 'h.resolved_at', 'h.status', 'h.amount_minor', 'h.payment_id', 'la.kind as source'])
    .where('la.account_id', '=', accountId)
    .orderBy('h.created_at', 'desc')
    .limit(limit)
    .execute();
  const lines: AccountEntry[] = postings.map((p) => ({
    at: p.at,
    kind: p.kind,
    source: p.source as 'wallet' | 'card',
    amountMinor: Number(p.amount),
    ref: p.ref,
  }));
  for (const h of holds) {
    lines.push({
      at: h.created_at,
      kind: 'hold',
      source: h.source as 'wallet' | 'card',
      amountMinor: -Number(h.amount_minor),
      ref: h.payment_id,
    });
    if (h.status === 'released' && h.resolved_at)
      lines.push({
        at: h.resolved_at,
        kind: 'release',
        source: h.source as 'wallet' | 'card',
        amountMinor: Number(h.amount_minor),
        ref: h.payment_id,
      });
  }
  return lines.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0)).slice(0, limit);
}

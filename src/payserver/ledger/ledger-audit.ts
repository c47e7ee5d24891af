import { sql } from 'kysely';
import type { PayserverDb } from '../schema.ts';

export interface AuditProblem {
  /** Stable names: `entry_unbalanced`, `held_mismatch`, `balance_mismatch`, `below_held`, `total_not_zero`. */
  kind: string;
  id: string;
  detail: string;
}

export interface LedgerAudit {
  ok: boolean;
  entries: number;
  accounts: number;
  problems: AuditProblem[];
}

/**
 * Checks the ledger's invariants against its own records, as an auditor
 * would (TigerBeetle-style invariants at run time): every journal entry sums
 * to zero; each account's `held_minor` equals its open holds and its
 * `balance_minor` equals the sum of its postings; no owner's account is below
 * what it holds; and all balances together sum to zero (money only enters
 * through the external account). Read-only; safe to run at any time.
 */
export async function auditLedger(db: PayserverDb): Promise<LedgerAudit> {
  const problems: AuditProblem[] = [];
  const unbalanced = await sql<{ entry_id: string; total: number }>`
    SELECT entry_id, SUM(amount_minor) AS total FROM postings GROUP BY entry_id HAVING SUM(amount_minor) <> 0`.execute(
    db,
  );
  for (const r of unbalanced.rows)
    problems.push({ kind: 'entry_unbalanced', id: r.entry_id, detail: `its postings sum to ${Number(r.total)}` });

  const accounts = await sql<{
    id: string;
    kind: string;
    balance_minor: number;
    held_minor: number;
    posted: number | null;
    held: number | null;
  }>`
    SELECT la.id, la.kind, la.balance_minor, la.held_minor,
      (SELECT SUM(p.amount_minor) FROM postings p WHERE p.ledger_account_id = la.id) AS posted,
      (SELECT SUM(h.amount_minor) FROM holds h WHERE h.ledger_account_id = la.id AND h.status = 'held') AS held
    FROM ledger_accounts la`.execute(db);
  let total = 0;
  for (const a of accounts.rows) {
    const balance = Number(a.balance_minor);
    const heldMinor = Number(a.held_minor);
    total += balance;
    if (balance !== Number(a.posted ?? 0))
      problems.push({
        kind: 'balance_mismatch',
        id: a.id,
        detail: `balance ${balance}, postings ${Number(a.posted ?? 0)}`,
      });
    if (heldMinor !== Number(a.held ?? 0))
      problems.push({
        kind: 'held_mismatch',
        id: a.id,
        detail: `held ${heldMinor}, open holds ${Number(a.held ?? 0)}`,
      });
    if (a.kind !== 'external' && balance < heldMinor)
      problems.push({ kind: 'below_held', id: a.id, detail: `balance ${balance} below held ${heldMinor}` });
  }
  if (total !== 0) problems.push({ kind: 'total_not_zero', id: '*', detail: `all balances sum to ${total}` });
  const entries = await db
    .selectFrom('journal_entries')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return { ok: problems.length === 0, entries: Number(entries.n), accounts: accounts.rows.length, problems };
}

import { StatementRowSchema, type StatementRow } from '../../contracts/provider-api.ts';
import { businessDay } from '../../lib/business-day.ts';
import type { PayserverDb } from '../schema.ts';

/** The statement's columns, in the contract's order (the CSV's header and each line's fields). */
export const STATEMENT_COLUMNS = Object.keys(StatementRowSchema.properties) as ReadonlyArray<keyof StatementRow>;

/**
 * The payment server's statement of a business day (Alipay's daily bill):
 * every capture and every refund whose money moved that day in the business
 * time zone, oldest first. Renewals are captures like any other.
 */
export async function statementOf(db: PayserverDb, date: string, timeZone: string): Promise<StatementRow[]> {
  const { start, end } = businessDay(date, timeZone);
  const captures = await db
    .selectFrom('payments')
    .select(['id', 'order_id', 'amount_minor', 'currency', 'source', 'completed_at'])
    .where('status', 'in', ['captured', 'refunded'])
    .where('completed_at', '>=', start)
    .where('completed_at', '<', end)
    .execute();
  const refunds = await db
    .selectFrom('refunds')
    .select(['id', 'payment_id', 'order_id', 'amount_minor', 'currency', 'source', 'created_at'])
    .where('status', '=', 'succeeded')
    .where('created_at', '>=', start)
    .where('created_at', '<', end)
    .execute();
  const rows: StatementRow[] = [
    ...captures.map((p) => ({
      type: 'payment' as const,
      payment_id: p.id,
      refund_id: '',
      order_id: p.order_id,
      amount_minor: Number(p.amount_minor),
      currency: p.currency,
      source: p.source ?? '',
      at: p.completed_at!,
    })),
    ...refunds.map((r) => ({
      type: 'refund' as const,
      payment_id: r.payment_id,
      refund_id: r.id,
      order_id: r.order_id,
      amount_minor: Number(r.amount_minor),
      currency: r.currency,
      source: r.source ?? '',
      at: r.created_at,
    })),
  ];
  return rows.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.payment_id < b.payment_id ? -1 : 1));
}

/** The statement as CSV: exactly the contract's columns in its order, unquoted (no value holds a comma). */
export function statementCsv(rows: StatementRow[]): string {
  const lines = rows.map((r) => STATEMENT_COLUMNS.map((c) => String(r[c])).join(','));
  return `${STATEMENT_COLUMNS.join(',')}\n${lines.map((l) => `${l}\n`).join('')}`;
}

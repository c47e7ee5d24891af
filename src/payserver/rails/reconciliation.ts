import { businessDay } from '../../lib/business-day.ts';
import { DomainError } from '../../lib/errors.ts';
import type { PayserverDb } from '../schema.ts';
import type { BillLine, RailName } from './rail.ts';
import type { RailPayments } from './rail-payments.ts';
import type { RailRegistry } from './registry.ts';

/** One line of either side, named as both sides name it. */
export interface ReconciledLine {
  kind: 'payment' | 'refund';
  outTradeNo: string;
  outRefundNo?: string;
  amountMinor: number;
}

export interface Reconciliation {
  date: string;
  matched: ReconciledLine[];
  /** At the rail, not settled here: a payment whose trade tvpay knows is settled now (`settled`). */
  missingHere: Array<ReconciledLine & { settled: boolean }>;
  missingAtRail: ReconciledLine[];
  amountMismatches: Array<Omit<ReconciledLine, 'amountMinor'> & { hereMinor: number; atRailMinor: number }>;
}

const keyOf = (l: { kind: string; outTradeNo: string; outRefundNo?: string }) =>
  `${l.kind}:${l.outTradeNo}:${l.outRefundNo ?? ''}`;

/**
 * A business day's bill of a rail against what tvpay settled through it that day: its captures (by trade
 * number) and its refunds (by refund id). A payment the rail took that tvpay never settled is settled now,
 * through the same path as a notification (refunded in full by itself if its order ended).
 */
export async function reconcile(
  deps: { db: PayserverDb; rails: RailRegistry; payments: RailPayments; timeZone: string },
  railName: string,
  date: string,
): Promise<Reconciliation> {
  const rail = deps.rails.require(railName);
  const bill = await rail.bill(date);
  if (bill.state !== 'ok')
    throw new DomainError('RAIL_UNAVAILABLE', `The ${rail.title.en} bill of ${date} is not available: ${bill.reason}`);
  const here = new Map((await settledHere(deps.db, rail.name, date, deps.timeZone)).map((l) => [keyOf(l), l]));
  const result: Reconciliation = { date, matched: [], missingHere: [], missingAtRail: [], amountMismatches: [] };
  for (const line of bill.lines) {
    const ours = here.get(keyOf(line));
    here.delete(keyOf(line));
    const named = {
      kind: line.kind,
      outTradeNo: line.outTradeNo,
      ...(line.outRefundNo ? { outRefundNo: line.outRefundNo } : {}),
    };
    if (!ours)
      result.missingHere.push({
        ...named,
        amountMinor: line.amountMinor,
        settled: await settle(deps, rail.name, line),
      });
    else if (ours.amountMinor !== line.amountMinor)
      result.amountMismatches.push({ ...named, hereMinor: ours.amountMinor, atRailMinor: line.amountMinor });
    else result.matched.push({ ...named, amountMinor: line.amountMinor });
  }
  result.missingAtRail.push(...here.values());
  return result;
}

/** A payment line the rail has and tvpay did not settle: settled as a notification would, if the trade is ours. */
async function settle(deps: { payments: RailPayments }, rail: RailName, line: BillLine): Promise<boolean> {
  if (line.kind !== 'payment') return false;
  const paid = {
    outTradeNo: line.outTradeNo,
    providerTradeNo: line.providerTradeNo,
    amountMinor: line.amountMinor,
    paidAt: line.at,
  };
  return (await deps.payments.settlePaid(rail, paid, 'bill')) === 'applied';
}

/** What tvpay settled through the rail on the business day: captured payments and succeeded refunds. */
async function settledHere(db: PayserverDb, rail: RailName, date: string, timeZone: string): Promise<ReconciledLine[]> {
  const { start, end } = businessDay(date, timeZone);
  const payments = await db
    .selectFrom('payments')
    .innerJoin('rail_trades', 'rail_trades.payment_id', 'payments.id')
    .select(['rail_trades.out_trade_no', 'payments.amount_minor'])
    .where('payments.source', '=', rail)
    .where('payments.status', 'in', ['captured', 'refunded'])
    .where('payments.completed_at', '>=', start)
    .where('payments.completed_at', '<', end)
    .execute();
  const refunds = await db
    .selectFrom('refunds')
    .innerJoin('rail_trades', 'rail_trades.payment_id', 'refunds.payment_id')
    .select(['rail_trades.out_trade_no', 'refunds.id', 'refunds.amount_minor'])
    .where('refunds.source', '=', rail)
    .where('refunds.status', '=', 'succeeded')
    .where('refunds.created_at', '>=', start)
    .where('refunds.created_at', '<', end)
    .execute();
  return [
    ...payments.map((p) => ({
      kind: 'payment' as const,
      outTradeNo: p.out_trade_no,
      amountMinor: Number(p.amount_minor),
    })),
    ...refunds.map((r) => ({
      kind: 'refund' as const,
      outTradeNo: r.out_trade_no,
      outRefundNo: r.id,
      amountMinor: Number(r.amount_minor),
    })),
  ];
}

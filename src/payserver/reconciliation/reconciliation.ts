import { businessDate, businessDay } from '../../lib/business-day.ts';
import type { Clock } from '../../lib/clock.ts';
import { DomainError } from '../../lib/errors.ts';
import { checkoutStore } from '../settlement/checkout-store.ts';
import type { PayserverDb } from '../schema.ts';
import type { BillLine, QueryOutcome, Rail, RailName } from '../rails/rail.ts';
import type { RailPayments } from '../rail-payments/rail-payments.ts';
import type { RailRegistry } from '../rails/registry.ts';
import { reconciliationStore, type KnownRefund, type KnownTrade } from './reconciliation-store.ts';

/** The providers cut their bills at midnight in Beijing time, whatever tvpay's own business time zone. */
export const RAIL_BILL_TIME_ZONE = 'Asia/Shanghai';

/**
 * What was done about a line: `settled` (a trade paid at the rail that tvpay had not settled, now captured
 * for its order), `refunding` (settled, but its order had ended: it goes back to the payer in full by
 * itself), or `none` (nothing tvpay could match or safely apply; an operator looks at it).
 */
export type ReconAction = 'settled' | 'refunding' | 'none';

/** One line of a reconciliation: amounts in fen, tvpay's ids where known. */
export interface ReconLine {
  kind: 'payment' | 'refund';
  outTradeNo: string;
  providerTradeNo: string | null;
  /** For a refund: tvpay's refund id as the rail knows it (`out_request_no` / `out_refund_no`). */
  outRefundNo?: string;
  /** What the rail's bill says (absent when the rail has no such line). */
  railAmountMinor?: number;
  /** What tvpay recorded (absent when tvpay has no such payment or refund). */
  tvpayAmountMinor?: number;
  paymentId?: string;
  refundId?: string;
  orderId?: string;
  action?: ReconAction;
  note?: string;
}

export interface Reconciliation {
  rail: RailName;
  date: string;
  matched: ReconLine[];
  /** On the rail's bill, not in tvpay's books for it (with what was done). */
  missingHere: ReconLine[];
  /** In tvpay's books for the day, not on the rail's bill. */
  missingAtRail: ReconLine[];
  /** On both, for different amounts. */
  amountMismatches: ReconLine[];
}

export interface RailReconciliationDeps {
  db: PayserverDb;
  rails: RailRegistry;
  payments: Pick<RailPayments, 'settlePaid'>;
  clock: Clock;
}

/**
 * Reconciles one rail's bill of a business day with tvpay's rail trades and refunds. A trade the bill
 * shows paid that tvpay never settled is settled here through RailPayments.settlePaid, the very path a
 * notification takes (so it applies once, and an order that had ended refunds it in full); a second run
 * finds it settled and changes nothing. Everything else is only listed: money is never moved on a guess.
 */
export class RailReconciliation {
  constructor(private readonly deps: RailReconciliationDeps) {}

  async reconcile(railName: string, date: string): Promise<Reconciliation> {
    const rail = this.deps.rails.require(railName);
    const { start, end } = businessDay(date, RAIL_BILL_TIME_ZONE);
    if (this.deps.clock.now().toISOString() < end) throw notReady(rail, date, 'the day has not ended yet');
    const bill = await rail.bill(date);
    if (bill.state !== 'ok') throw notReady(rail, date, bill.reason);
    const result: Reconciliation = {
      rail: rail.name,
      date,
      matched: [],
      missingHere: [],
      missingAtRail: [],
      amountMismatches: [],
    };
    await this.payments(rail, bill.lines, { date, start, end }, result);
    await this.refunds(rail, bill.lines, { date, start, end }, result);
    return result;
  }

  /** The bill's payment lines against tvpay's trades: by trade number, whatever day tvpay settled them. */
  private async payments(rail: Rail, lines: BillLine[], day: Span, result: Reconciliation): Promise<void> {
    const billed = lines.filter((l) => l.kind === 'payment');
    const db = this.deps.db;
    const ofDay = await reconciliationStore.paidWithin(db, rail.name, day.start, day.end);
    const known = new Map<string, KnownTrade>(ofDay.map((t) => [t.outTradeNo, t]));
    const others = billed.map((l) => l.outTradeNo).filter((n) => !known.has(n));
    for (const t of await reconciliationStore.tradesByNumber(db, rail.name, others)) known.set(t.outTradeNo, t);
    for (const line of billed) {
      const trade = known.get(line.outTradeNo);
      known.delete(line.outTradeNo);
      const base = paymentLine(line, trade);
      if (trade && trade.amountMinor !== line.amountMinor) result.amountMismatches.push(base);
      else if (trade?.state === 'paid') result.matched.push(base);
      else result.missingHere.push(await this.settleMissing(rail.name, line, trade, base));
    }
    for (const trade of known.values()) {
      if (trade.state !== 'paid') continue;
      const asked = await this.paidOn(rail, trade.outTradeNo);
      if (asked.on && asked.on !== day.date) continue;
      const note = asked.on ? `the rail's query says paid on ${asked.on}` : `the rail's query says ${asked.state}`;
      result.missingAtRail.push({ ...paymentLine(undefined, trade), note });
    }
  }

  /**
   * The Beijing day the rail says it took a trade's money: tvpay may have settled a trade a moment after
   * midnight (or by a later query) that the rail bills the day before, so it is on that day's bill, not
   * missing. Otherwise the state the rail's query gives, for the operator.
   */
  private async paidOn(rail: Rail, outTradeNo: string): Promise<{ state: string; on?: string }> {
    let asked: QueryOutcome;
    try {
      asked = await rail.query(outTradeNo);
    } catch (err) {
      asked = { state: 'unknown', reason: (err as Error).message };
    }
    if (asked.state === 'paid' || asked.state === 'refunded')
      return { state: asked.state, on: businessDate(asked.paid.paidAt, RAIL_BILL_TIME_ZONE) };
    return { state: asked.state };
  }

  /**
   * A payment the rail took that tvpay has not settled: settled now as its notification would have done.
   * A trade tvpay does not know, or that it already ended otherwise, is only listed.
   */
  private async settleMissing(
    rail: RailName,
    line: BillLine,
    trade: KnownTrade | undefined,
    base: ReconLine,
  ): Promise<ReconLine> {
    if (!trade) return { ...base, action: 'none', note: 'tvpay has no trade of this number' };
    const paid = {
      outTradeNo: line.outTradeNo,
      providerTradeNo: line.providerTradeNo,
      amountMinor: line.amountMinor,
      paidAt: line.at,
    };
    const applied = await this.deps.payments.settlePaid(rail, paid, 'reconciliation');
    if (applied !== 'applied') return { ...base, action: 'none', note: `not applied: the trade is ${trade.state}` };
    const checkout = await checkoutStore.byOrder(this.deps.db, trade.orderId);
    if (checkout?.paid_payment_id === trade.paymentId) return { ...base, action: 'settled' };
    return { ...base, action: 'refunding', note: 'the order had ended: the payment goes back in full' };
  }

  /** The bill's refund lines against tvpay's refunds: by the number the rail knows each refund by. */
  private async refunds(rail: Rail, lines: BillLine[], day: Span, result: Reconciliation): Promise<void> {
    const billed = lines.filter((l) => l.kind === 'refund');
    const db = this.deps.db;
    const ofDay = await reconciliationStore.refundsWithin(db, rail.name, day.start, day.end);
    // Keyed by the number the rail knows each refund by (Alipay's may be derived from tvpay's id).
    const known = new Map<string, KnownRefund>(ofDay.map((r) => [rail.outRefundNoOf(r.refundId), r]));
    const others = billed.flatMap((l) => (l.outRefundNo && !known.has(l.outRefundNo) ? [l.outRefundNo] : []));
    for (const r of await reconciliationStore.refundsById(db, rail.name, others))
      known.set(rail.outRefundNoOf(r.refundId), r);
    for (const line of billed) {
      const refund = line.outRefundNo ? known.get(line.outRefundNo) : undefined;
      if (line.outRefundNo) known.delete(line.outRefundNo);
      const base = refundLine(line, refund);
      if (!refund || refund.status !== 'succeeded')
        result.missingHere.push({
          ...base,
          action: 'none',
          note: refund ? `tvpay's refund is ${refund.status}` : 'tvpay has no refund of this id',
        });
      else if (refund.amountMinor !== line.amountMinor) result.amountMismatches.push(base);
      else result.matched.push(base);
    }
    for (const refund of known.values()) result.missingAtRail.push(refundLine(undefined, refund));
  }
}

interface Span {
  date: string;
  start: string;
  end: string;
}

function notReady(rail: Rail, date: string, reason: string): DomainError {
  return new DomainError(
    'BILL_NOT_READY',
    `${rail.title.en}'s bill of ${date} is not available (${reason.slice(0, 120)}); ask again once the day has ended.`,
  );
}

function paymentLine(line: BillLine | undefined, trade: KnownTrade | undefined): ReconLine {
  return compact({
    kind: 'payment',
    outTradeNo: line?.outTradeNo ?? trade!.outTradeNo,
    providerTradeNo: line?.providerTradeNo ?? trade?.providerTradeNo ?? null,
    railAmountMinor: line?.amountMinor,
    tvpayAmountMinor: trade?.amountMinor,
    paymentId: trade?.paymentId,
    orderId: trade?.orderId,
  });
}

function refundLine(line: BillLine | undefined, refund: KnownRefund | undefined): ReconLine {
  return compact({
    kind: 'refund',
    outTradeNo: line?.outTradeNo ?? refund!.outTradeNo,
    providerTradeNo: line?.providerTradeNo ?? refund?.providerTradeNo ?? null,
    outRefundNo: line?.outRefundNo ?? refund?.refundId,
    railAmountMinor: line?.amountMinor,
    tvpayAmountMinor: refund?.amountMinor,
    paymentId: refund?.paymentId,
    refundId: refund?.refundId,
    orderId: refund?.orderId,
  });
}

/** Drops the fields that are not known, so a line says only what is. */
function compact(line: ReconLine): ReconLine {
  return Object.fromEntries(Object.entries(line).filter(([, v]) => v !== undefined)) as unknown as ReconLine;
}

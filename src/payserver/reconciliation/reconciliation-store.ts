import { whereInRange } from '../../lib/db/rows.ts';
import type { PayserverDb } from '../schema.ts';
import type { RailName } from '../rails/rail.ts';

/** A trade of tvpay's at a rail with its payment: what a bill's payment line is compared with. */
export interface KnownTrade {
  outTradeNo: string;
  providerTradeNo: string | null;
  state: string;
  amountMinor: number;
  paymentId: string;
  orderId: string;
}

/** A refund of tvpay's of a rail payment: what a bill's refund line is compared with. */
export interface KnownRefund {
  refundId: string;
  outTradeNo: string;
  providerTradeNo: string | null;
  amountMinor: number;
  status: string;
  paymentId: string;
  orderId: string;
}

const tradeColumns = [
  'rail_trades.out_trade_no as outTradeNo',
  'rail_trades.provider_trade_no as providerTradeNo',
  'rail_trades.state as state',
  'rail_trades.amount_minor as amountMinor',
  'rail_trades.payment_id as paymentId',
  'rail_trades.order_id as orderId',
] as const;

const refundColumns = [
  'refunds.id as refundId',
  'rail_trades.out_trade_no as outTradeNo',
  'rail_trades.provider_trade_no as providerTradeNo',
  'refunds.amount_minor as amountMinor',
  'refunds.status as status',
  'refunds.payment_id as paymentId',
  'refunds.order_id as orderId',
] as const;

/** At most this many values in one `IN (...)`: a day's bill may hold more lines than a statement takes parameters. */
const CHUNK = 500;

async function inChunks<T>(values: string[], read: (some: string[]) => Promise<T[]>): Promise<T[]> {
  const rows: T[] = [];
  for (let i = 0; i < values.length; i += CHUNK) rows.push(...(await read(values.slice(i, i + CHUNK))));
  return rows;
}

const numeric = <T extends { amountMinor: number | string | bigint }>(rows: T[]) =>
  rows.map((r) => ({ ...r, amountMinor: Number(r.amountMinor) }));

/** The refunds of the rail's payments (those with a trade of the rail), as a reconciliation reads them. */
function refundsOfRail(db: PayserverDb, rail: RailName) {
  return db
    .selectFrom('refunds')
    .innerJoin('rail_trades', 'rail_trades.payment_id', 'refunds.payment_id')
    .select(refundColumns)
    .where('rail_trades.rail', '=', rail);
}

/**
 * Reads only: what tvpay recorded of a rail's trades and refunds, for a reconciliation against the rail's
 * bill. It writes nothing; a trade the bill shows paid is settled through RailPayments, not here.
 */
export const reconciliationStore = {
  /** The rail's trades whose payment was captured within [start, end): what tvpay says was paid that day. */
  async paidWithin(db: PayserverDb, rail: RailName, start: string, end: string): Promise<KnownTrade[]> {
    const rows = await db
      .selectFrom('rail_trades')
      .innerJoin('payments', 'payments.id', 'rail_trades.payment_id')
      .select(tradeColumns)
      .where('rail_trades.rail', '=', rail)
      .where('rail_trades.state', '=', 'paid')
      .$call((q) => whereInRange(q, 'payments.completed_at', [start, end]))
      .execute();
    return numeric(rows);
  },

  /** The rail's trades of these numbers, whatever their state or day. */
  async tradesByNumber(db: PayserverDb, rail: RailName, outTradeNos: string[]): Promise<KnownTrade[]> {
    const rows = await inChunks(outTradeNos, (some) =>
      db
        .selectFrom('rail_trades')
        .select(tradeColumns)
        .where('rail', '=', rail)
        .where('out_trade_no', 'in', some)
        .execute(),
    );
    return numeric(rows);
  },

  /** The succeeded refunds of the rail's payments made within [start, end). */
  async refundsWithin(db: PayserverDb, rail: RailName, start: string, end: string): Promise<KnownRefund[]> {
    const rows = await refundsOfRail(db, rail)
      .where('refunds.status', '=', 'succeeded')
      .$call((q) => whereInRange(q, 'refunds.created_at', [start, end]))
      .execute();
    return numeric(rows);
  },

  /** The refunds of these ids of the rail's payments, whatever their state or day. */
  async refundsById(db: PayserverDb, rail: RailName, refundIds: string[]): Promise<KnownRefund[]> {
    const rows = await inChunks(refundIds, (some) => refundsOfRail(db, rail).where('refunds.id', 'in', some).execute());
    return numeric(rows);
  },
};

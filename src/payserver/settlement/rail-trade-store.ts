import { moveRow, rowsWhere, tableRows } from '../../lib/db/rows.ts';
import type { RandomSource } from '../../lib/ids.ts';
import type { PayserverDb, PayserverTables, RailTradeState } from '../schema.ts';
import type { RailName } from '../rails/rail.ts';

export type RailTrade = PayserverTables['rail_trades'];

/** For each state of a rail trade, the states it may be reached from: it only moves forward. */
export const RAIL_TRADE_PREDECESSORS: Readonly<Record<RailTradeState, readonly RailTradeState[]>> = {
  created: [],
  unknown: ['created'],
  qr: ['created', 'unknown'],
  redirected: ['created', 'unknown'],
  charging: ['created', 'unknown'],
  paid: ['created', 'unknown', 'qr', 'redirected', 'charging'],
  failed: ['created', 'unknown', 'charging'],
  closed: ['created', 'unknown', 'qr', 'redirected', 'charging'],
};

/** The states in which a trade may still take money: the sweeper asks about these, an ending order closes them. */
export const OPEN_TRADE_STATES: readonly RailTradeState[] = ['created', 'unknown', 'qr', 'redirected', 'charging'];

const trades = tableRows('rail_trades', 'out_trade_no');

/**
 * The only place `rail_trades` and `rail_trade_log` are written: what tvpay knows of each trade at a
 * rail, moved forward by conditional UPDATEs, and the log of every call and notification about it.
 */
export const railTradeStore = {
  insert: trades.insert,
  byOutTradeNo: trades.byKey,
  /** The trade of a payment (a rail payment has one). */
  byPayment: trades.oneBy('payment_id'),

  /** The order's QR of this rail that can still be scanned (the same code is shown again while it is). */
  async liveQr(db: PayserverDb, orderId: string, rail: RailName, now: string): Promise<RailTrade | undefined> {
    return db
      .selectFrom('rail_trades')
      .selectAll()
      .where('order_id', '=', orderId)
      .where('rail', '=', rail)
      .where('kind', '=', 'qr')
      .where('state', '=', 'qr')
      .where('expires_at', '>', now)
      .orderBy('created_at', 'desc')
      .executeTakeFirst();
  },

  /** The order's trades that may still take money, but the one of `exceptPaymentId`. */
  async openOfOrder(trx: PayserverDb, orderId: string, exceptPaymentId?: string): Promise<RailTrade[]> {
    let q = trx
      .selectFrom('rail_trades')
      .selectAll()
      .where('order_id', '=', orderId)
      .where('state', 'in', [...OPEN_TRADE_STATES]);
    if (exceptPaymentId) q = q.where('payment_id', '!=', exceptPaymentId);
    return q.execute();
  },

  /**
   * Moves a trade to `to` from an allowed predecessor, with what was learnt; whether this call made the
   * move. A trade that reaches a final state has nothing left to ask about.
   */
  async move(
    trx: PayserverDb,
    outTradeNo: string,
    to: RailTradeState,
    now: string,
    set: Partial<Pick<RailTrade, 'provider_trade_no' | 'qr_text' | 'next_check_at'>> = {},
  ): Promise<boolean> {
    const final = to === 'paid' || to === 'failed' || to === 'closed';
    const from = { out_trade_no: outTradeNo, state: RAIL_TRADE_PREDECESSORS[to] };
    return moveRow(trx, 'rail_trades', from, {
      ...(final ? { next_check_at: null } : {}),
      ...set,
      state: to,
      updated_at: now,
    });
  },

  /** When the sweeper asks about an open trade next. */
  async checkAgainAt(db: PayserverDb, outTradeNo: string, at: string | null): Promise<void> {
    await db
      .updateTable('rail_trades')
      .set({ next_check_at: at })
      .where('out_trade_no', '=', outTradeNo)
      .where('state', 'in', [...OPEN_TRADE_STATES])
      .execute();
  },

  /** Open trades due to be asked about, oldest due first, at most `limit`. */
  async dueForQuery(db: PayserverDb, now: string, limit: number): Promise<RailTrade[]> {
    return db
      .selectFrom('rail_trades')
      .selectAll()
      .where('next_check_at', '<=', now)
      .where('state', 'in', [...OPEN_TRADE_STATES])
      .orderBy('next_check_at')
      .limit(limit)
      .execute();
  },

  /** Adds one line to a trade's log: what was done or received, and what was learnt (never a secret). */
  async log(
    db: PayserverDb,
    random: RandomSource,
    line: { outTradeNo: string; at: Date; what: string; outcome: string },
  ): Promise<void> {
    await db
      .insertInto('rail_trade_log')
      .values({
        id: random.id('rtl'),
        out_trade_no: line.outTradeNo,
        at: line.at.toISOString(),
        what: line.what,
        outcome: line.outcome.slice(0, 200),
      })
      .execute();
  },

  /** An order's trades, oldest first (its timeline). */
  async ofOrder(db: PayserverDb, orderId: string): Promise<RailTrade[]> {
    return rowsWhere(db, 'rail_trades', { order_id: orderId }, ['created_at', 'out_trade_no']);
  },

  /** The trades that pay these payments (one at most each), for the payment list. */
  async ofPayments(db: PayserverDb, paymentIds: string[]): Promise<RailTrade[]> {
    if (paymentIds.length === 0) return [];
    return db.selectFrom('rail_trades').selectAll().where('payment_id', 'in', paymentIds).execute();
  },

  /** A trade's log, in order. */
  async logOf(db: PayserverDb, outTradeNo: string) {
    return db
      .selectFrom('rail_trade_log')
      .select(['at', 'what', 'outcome'])
      .where('out_trade_no', '=', outTradeNo)
      .orderBy('at')
      .orderBy('id')
      .execute();
  },
};

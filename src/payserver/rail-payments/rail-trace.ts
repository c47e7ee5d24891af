import type { OrderTrace } from '../../contracts/provider-api.ts';
import type { PayserverDb } from '../schema.ts';
import { railTradeStore } from '../settlement/rail-trade-store.ts';

export type RailTrace = NonNullable<OrderTrace['rails']>;

/**
 * The one word of what a log line learnt (`qr`, `paid`, `unknown`, `refused`, `succeeded`…). The log
 * keeps a short sentence (a rail's message, an error, the other trade number); the timeline shows
 * operators only the word, so nothing a rail or a library said can reach a page unread.
 */
export function outcomeWord(what: string, outcome: string): string {
  const text = what === 'refund' || what === 'query_refund' ? outcome.replace(/^[^\s:]+: /, '') : outcome;
  return /^[a-z_]+/.exec(text)?.[0] ?? 'other';
}

/** An order's rail trades and, in order, the calls and notifications about each, for its timeline. */
export async function railTraceOf(db: PayserverDb, orderId: string): Promise<RailTrace> {
  const trades = await railTradeStore.ofOrder(db, orderId);
  return Promise.all(
    trades.map(async (t) => ({
      rail: t.rail,
      outTradeNo: t.out_trade_no,
      providerTradeNo: t.provider_trade_no,
      state: t.state,
      paymentId: t.payment_id,
      createdAt: t.created_at,
      events: (await railTradeStore.logOf(db, t.out_trade_no)).map((l) => ({
        kind: l.what,
        outcome: outcomeWord(l.what, l.outcome),
        at: l.at,
      })),
    })),
  );
}

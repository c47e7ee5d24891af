import type { Clock } from '../../lib/clock.ts';
import type { UnitOfWork } from '../../lib/db/unit-of-work.ts';
import type { RandomSource } from '../../lib/ids.ts';
import { RetryLater } from '../../lib/outbox/outbox.ts';
import type { Ledger } from '../ledger/ledger.ts';
import { paymentStore } from '../settlement/payment-store.ts';
import { railOf } from '../settlement/settlement.ts';
import type { RailEvent, RailName, RefundOutcome } from '../rails/rail.ts';
import type { ApplyResult } from '../rail-payments/rail-payments.ts';
import { railTradeStore } from '../settlement/rail-trade-store.ts';
import type { RailRegistry } from '../rails/registry.ts';
import type { PayserverDb, PayserverTables } from '../schema.ts';
import { refundStore } from './refund-store.ts';
import type { RefundsService } from './refunds-service.ts';

/** How long before a refund whose outcome was not learnt is asked about again. */
const ASK_AGAIN_MS = 15_000;

/** What RailRefunds is built from. */
export interface RailRefundsDeps {
  db: PayserverDb;
  ledger: Ledger;
  rails: RailRegistry;
  refunds: RefundsService;
  random: RandomSource;
  clock: Clock;
  /** Its transactions, which wake the outbox workers once they have committed. */
  work: UnitOfWork<PayserverTables>;
}

/**
 * Refunds of rail payments: asked of the rail with `out_refund_no` = tvpay's refund id (the same on every
 * retry, so the rail gives back once), then settled once by what it answers, notifies or says when asked
 * (`queryRefund`): the ledger moves merchant → clearing, the payer's receipt and the back-end's message
 * leave in the same transaction. A refund that failed gives its amount back to what may still be refunded.
 */
export class RailRefunds {
  constructor(private readonly deps: RailRefundsDeps) {}

  /** The outbox's delivery of a pending rail refund: the first attempt asks for it, later ones ask how it went. */
  async request({ refundId }: { refundId: string }, _messageId: string, attempt: number): Promise<void> {
    const row = await refundStore.byId(this.deps.db, refundId);
    if (!row || row.status !== 'pending') return;
    const trade = await railTradeStore.byPayment(this.deps.db, row.payment_id);
    const rail = trade && this.deps.rails.get(trade.rail);
    const later = (why: string) => new RetryLater(new Date(this.deps.clock.now().getTime() + ASK_AGAIN_MS), why);
    if (!trade || !rail) throw later(`the rail of payment ${row.payment_id} is off`);
    const outcome =
      attempt <= 1
        ? await rail.refund({
            outTradeNo: trade.out_trade_no,
            outRefundNo: refundId,
            refundMinor: Number(row.amount_minor),
            totalMinor: Number(trade.amount_minor),
            reason: 'tvpay refund',
          })
        : await rail.queryRefund(trade.out_trade_no, refundId);
    await railTradeStore.log(this.deps.db, this.deps.random, {
      outTradeNo: trade.out_trade_no,
      at: this.deps.clock.now(),
      what: attempt <= 1 ? 'refund' : 'query_refund',
      outcome: `${refundId}: ${describe(outcome)}`,
    });
    if (outcome.state === 'succeeded') await this.settle(refundId, 'succeeded', null);
    else if (outcome.state === 'failed') await this.settle(refundId, 'failed', outcome.code);
    else throw later(`the refund is ${outcome.state}`);
  }

  /** A verified refund notification of a rail: matched by refund id, trade and amount, then settled once. */
  async onEvent(
    rail: RailName,
    event: Extract<RailEvent, { type: 'refund.succeeded' | 'refund.failed' }>,
  ): Promise<ApplyResult> {
    const row = await refundStore.byId(this.deps.db, event.outRefundNo);
    const trade = row && (await railTradeStore.byPayment(this.deps.db, row.payment_id));
    if (!row || trade?.rail !== rail || trade.out_trade_no !== event.outTradeNo) return 'unmatched';
    if (event.type === 'refund.succeeded' && event.refundMinor !== Number(row.amount_minor)) return 'unmatched';
    const done =
      event.type === 'refund.succeeded'
        ? await this.settle(row.id, 'succeeded', null)
        : await this.settle(row.id, 'failed', 'REFUND_FAILED');
    return done ? 'applied' : 'duplicate';
  }

  /** pending → succeeded or failed, once, with what follows; whether this call settled it. */
  private async settle(refundId: string, to: 'succeeded' | 'failed', failureCode: string | null): Promise<boolean> {
    const now = this.deps.clock.now();
    const done = await this.deps.work.run(async (trx) => {
      if (!(await refundStore.finish(trx, refundId, to, failureCode))) return false;
      const row = (await refundStore.byId(trx, refundId))!;
      const payment = (await paymentStore.byId(trx, row.payment_id))!;
      const amount = Number(row.amount_minor);
      if (to === 'failed') {
        await paymentStore.giveBackRefund(trx, payment.id, amount);
        await this.deps.refunds.tell(trx, row, payment.attempt, now);
        return true;
      }
      await this.deps.ledger.railRefund(trx, railOf(payment)!, row.currency, amount, {
        refundId,
        paymentId: payment.id,
      });
      await this.deps.refunds.succeeded(trx, row, payment, now);
      return true;
    });
    return done;
  }
}

function describe(o: RefundOutcome): string {
  if (o.state === 'failed') return `failed: ${o.code} (${o.providerCode})`;
  if (o.state === 'unknown') return `unknown: ${o.reason}`;
  return o.state;
}

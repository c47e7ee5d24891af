import type { PaymentEvent, StatementRow } from '../../contracts/provider-api.ts';
import { businessDate, businessDay } from '../../lib/business-day.ts';
import type { Clock } from '../../lib/clock.ts';
import type { RandomSource } from '../../lib/ids.ts';
import type { Log } from '../../lib/log.ts';
import { findOrder } from '../orders/order-store.ts';
import type { PaymentProvider } from '../core/payment-provider.ts';
import type { PaymentEvents } from '../payments/payment-events.ts';
import { contestedStore, type ContestedKind } from '../contested/contested-store.ts';
import { refundStore } from '../refunds/refund-store.ts';
import type { BackendDb } from '../schema.ts';

export interface Reconciliation {
  date: string;
  /** Payments and refunds of the day on which both sides agree (refunded orders included). */
  matched: number;
  /** Outcomes the provider had and the back-end had not heard of, applied now through the exactly-once inbox. */
  repaired: Array<{ orderId: string; paymentId: string; action: 'applied_payment' | 'applied_refund' }>;
  mismatches: Array<{ kind: MismatchKind; orderId: string; paymentId: string; detail: string }>;
  ranAt: string;
}

/** Stable names of what can disagree. */
export type MismatchKind =
  | 'unknown_order'
  | 'amount_mismatch'
  | 'currency_mismatch'
  | 'paid_at_provider_only'
  | 'missing_at_provider'
  | 'second_payment'
  | 'refund_amount_mismatch'
  | 'refund_at_provider_only'
  | ContestedKind;

/** The ids of the messages reconciliation makes itself (repairMessage); what they contest it reports at once. */
const REPAIR_PREFIX = 'msg_rec_';

/** An order waits for its payment this long before it is checked against the provider. */
const STALE_MS = 5 * 60 * 1000;
/** Waiting orders a sweep checks against the provider (one trace each); the next sweep goes on from the last. */
const STALE_BATCH = 50;
const AFTER_MIDNIGHT_MS = 10 * 60 * 1000;

/** What ReconciliationService is built from. */
export interface ReconciliationServiceDeps {
  db: BackendDb;
  provider: PaymentProvider;
  payments: PaymentEvents;
  random: RandomSource;
  clock: Clock;
  timeZone: string;
  log: Log;
}

/**
 * Reconciliation (API "Reconciliation"): the back-end's payments and refunds
 * of a business day against the payment server's statement. A capture the
 * back-end never heard of is applied through the same exactly-once inbox as
 * the original message would have been (its message id is derived from the
 * payment, so two runs apply it once); every other disagreement is reported
 * with a stable kind. It runs by itself for the day before, shortly after
 * midnight in the business time zone, and on demand.
 */
export class ReconciliationService {
  private autoRanFor: string | undefined;
  private readonly checkedAt = new Map<string, number>();
  /**
   * Where the last sweep's check of waiting orders stopped. The check read the 50 that had waited longest
   * every time, so behind 50 that stay unpaid (a provider's outage, renewal day's backlog) the rest were
   * never checked; each sweep now takes the next 50 after these, and starts over when it reaches the end.
   */
  private staleAfter: { updatedAt: string; id: string } | undefined;

  constructor(private readonly deps: ReconciliationServiceDeps) {}

  async run(date: string): Promise<Reconciliation> {
    const rows = await this.deps.provider.statement(date);
    const report: Reconciliation = {
      date,
      matched: 0,
      repaired: [],
      mismatches: [],
      ranAt: this.deps.clock.now().toISOString(),
    };
    const seenPayments = new Set<string>();
    for (const row of rows) {
      if (row.type === 'payment') {
        seenPayments.add(row.payment_id);
        await this.checkPayment(row, report);
      } else await this.checkRefund(row, report);
    }
    const { start, end } = businessDay(date, this.deps.timeZone);
    const ours = await this.deps.db
      .selectFrom('orders')
      .select(['id', 'payment_id', 'amount_minor'])
      .where('payment_id', 'is not', null)
      .where('paid_at', '>=', start)
      .where('paid_at', '<', end)
      .execute();
    for (const o of ours) {
      if (!seenPayments.has(o.payment_id!))
        report.mismatches.push({
          kind: 'missing_at_provider',
          orderId: o.id,
          paymentId: o.payment_id!,
          detail: 'the back-end has this payment, the provider’s statement of the day does not',
        });
    }
    // Messages of the day that repeated or contradicted what was applied, answered without effect.
    for (const c of await contestedStore.receivedBetween(this.deps.db, start, end)) {
      if (c.message_id.startsWith(REPAIR_PREFIX)) continue;
      report.mismatches.push({
        kind: c.kind as ContestedKind,
        orderId: c.order_id,
        paymentId: c.payment_id,
        detail: c.detail,
      });
    }
    await this.deps.db
      .insertInto('reconciliations')
      .values({ id: this.deps.random.id('rec'), date, ran_at: report.ranAt, report: JSON.stringify(report) })
      .execute();
    if (report.mismatches.length)
      this.deps.log.error(
        { date, mismatches: report.mismatches.length },
        'reconciliation found disagreements with the payment server',
      );
    return report;
  }

  async latest(limit = 30): Promise<Reconciliation[]> {
    const rows = await this.deps.db
      .selectFrom('reconciliations')
      .select('report')
      .orderBy('ran_at', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => JSON.parse(r.report) as Reconciliation);
  }

  private async checkPayment(row: StatementRow, report: Reconciliation): Promise<void> {
    const order = await findOrder(this.deps.db, row.order_id);
    const mismatch = (kind: MismatchKind, detail: string) =>
      report.mismatches.push({ kind, orderId: row.order_id, paymentId: row.payment_id, detail });
    if (!order)
      return void mismatch('unknown_order', 'the provider captured a payment for an order the back-end does not have');
    if (order.currency !== row.currency)
      return void mismatch('currency_mismatch', `provider ${row.currency}, back-end ${order.currency}`);
    if (order.payment_id === row.payment_id) {
      if (Number(order.amount_minor) !== row.amount_minor)
        return void mismatch('amount_mismatch', `provider ${row.amount_minor}, back-end ${order.amount_minor}`);
      report.matched++;
      return;
    }
    if (order.payment_id)
      return void mismatch('second_payment', `the order was paid by ${order.payment_id}; this capture is a second one`);
    // The back-end never took this capture: a refused one (its order had ended) went back as a refund of its own.
    const refunds = await refundStore.ofOrder(this.deps.db, order.id);
    if (refunds.some((r) => r.payment_id === row.payment_id && r.status === 'succeeded')) {
      report.matched++;
      return;
    }
    const answer = await this.deps.payments.apply(this.repairMessage('payment.completed', row, order.attempt));
    if (answer.result === 'applied')
      report.repaired.push({ orderId: order.id, paymentId: row.payment_id, action: 'applied_payment' });
    else
      mismatch(
        'paid_at_provider_only',
        `the provider captured it but the order is ${order.status} (the back-end answered ${answer.result}); ` +
          `it is refunded by the provider when its message arrives`,
      );
  }

  private async checkRefund(row: StatementRow, report: Reconciliation): Promise<void> {
    const ours = await refundStore.byId(this.deps.db, row.refund_id);
    if (ours && ours.status === 'succeeded') {
      if (Number(ours.amount_minor) === row.amount_minor) report.matched++;
      else
        report.mismatches.push({
          kind: 'refund_amount_mismatch',
          orderId: row.order_id,
          paymentId: row.payment_id,
          detail: `provider ${row.amount_minor}, back-end ${ours.amount_minor}`,
        });
      return;
    }
    const answer = await this.deps.payments.apply(this.repairMessage('refund.succeeded', row, 0));
    if (answer.result === 'applied')
      report.repaired.push({ orderId: row.order_id, paymentId: row.payment_id, action: 'applied_refund' });
    else
      report.mismatches.push({
        kind: 'refund_at_provider_only',
        orderId: row.order_id,
        paymentId: row.payment_id,
        detail:
          `the provider refunded ${row.amount_minor} (refund ${row.refund_id}); ` +
          `the back-end did not take it, as it contradicts what was applied`,
      });
  }

  /** The message the provider would have sent, with an id derived from what it tells, so repairs are applied once. */
  private repairMessage(
    type: 'payment.completed' | 'refund.succeeded',
    row: StatementRow,
    attempt: number,
  ): PaymentEvent {
    const isRefund = type === 'refund.succeeded';
    return {
      messageId: `${REPAIR_PREFIX}${isRefund ? row.refund_id : row.payment_id}`.slice(0, 64),
      type,
      ...(isRefund ? { refundId: row.refund_id } : {}),
      orderId: row.order_id,
      attempt,
      paymentId: row.payment_id,
      amountMinor: row.amount_minor,
      currency: row.currency,
      failureCode: null,
      ...(!isRefund && (row.source === 'wallet' || row.source === 'card') ? { source: row.source } : {}),
      at: row.at,
    };
  }

  /**
   * The sweeper's pass: yesterday's run shortly after midnight (once per
   * instance and day), and orders that have waited for their payment more
   * than a few minutes checked against the provider, so a lost message never
   * leaves a paid order unfulfilled.
   */
  async sweep(): Promise<void> {
    const now = this.deps.clock.now();
    await this.runYesterdayOnce(now);
    await this.checkStaleOrders(now);
  }

  /** Yesterday's reconciliation, shortly after midnight, once per instance and day (unless it already ran). */
  private async runYesterdayOnce(now: Date): Promise<void> {
    const today = businessDate(now, this.deps.timeZone);
    if (
      this.autoRanFor !== today &&
      now.getTime() - Date.parse(businessDay(today, this.deps.timeZone).start) >= AFTER_MIDNIGHT_MS
    ) {
      this.autoRanFor = today;
      const yesterday = businessDate(
        new Date(Date.parse(businessDay(today, this.deps.timeZone).start) - 1),
        this.deps.timeZone,
      );
      const done = await this.deps.db
        .selectFrom('reconciliations')
        .select('id')
        .where('date', '=', yesterday)
        .executeTakeFirst();
      if (!done)
        await this.run(yesterday).catch((err) =>
          this.deps.log.warn(
            { err: (err as Error).message },
            'the daily reconciliation could not run; it is tried again tomorrow or on demand',
          ),
        );
    }
  }

  /**
   * Orders that have waited for their payment more than a few minutes, a batch a pass, checked against the
   * provider: a payment it captured whose message was lost is applied from its status.
   */
  private async checkStaleOrders(now: Date): Promise<void> {
    const after = this.staleAfter;
    const stale = await this.deps.db
      .selectFrom('orders')
      .select(['id', 'attempt', 'currency', 'updated_at'])
      .where('status', '=', 'awaiting_payment')
      .where('channel', 'is not', null)
      .where('updated_at', '<', new Date(now.getTime() - STALE_MS).toISOString())
      .$if(after !== undefined, (q) =>
        q.where((eb) =>
          eb.or([
            eb('updated_at', '>', after!.updatedAt),
            eb.and([eb('updated_at', '=', after!.updatedAt), eb('id', '>', after!.id)]),
          ]),
        ),
      )
      .orderBy('updated_at')
      .orderBy('id')
      .limit(STALE_BATCH)
      .execute();
    const last = stale.at(-1);
    this.staleAfter = stale.length === STALE_BATCH && last ? { updatedAt: last.updated_at, id: last.id } : undefined;
    for (const o of stale) {
      if ((this.checkedAt.get(o.id) ?? 0) > now.getTime() - STALE_MS) continue;
      this.checkedAt.set(o.id, now.getTime());
      const trace = await this.deps.provider.trace(o.id).catch(() => undefined);
      const captured = trace?.payments.find((p) => p.status === 'captured' || p.status === 'refunded');
      if (!captured || !captured.completedAt) continue;
      const answer = await this.deps.payments.apply(
        this.repairMessage(
          'payment.completed',
          {
            type: 'payment',
            payment_id: captured.paymentId,
            refund_id: '',
            order_id: o.id,
            amount_minor: captured.amountMinor,
            currency: o.currency,
            source: captured.source ?? '',
            at: captured.completedAt,
          },
          o.attempt,
        ),
      );
      this.deps.log.warn(
        { orderId: o.id, result: answer.result },
        'a payment the provider captured had not reached the back-end; applied from its status',
      );
    }
    if (this.checkedAt.size > 10_000) this.checkedAt.clear();
  }
}

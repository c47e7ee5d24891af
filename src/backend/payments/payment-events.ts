import { sql } from 'kysely';
import { crashPoint } from '../../lib/crash-points.ts';
import { preparedQuery } from '../../lib/db/prepared-query.ts';
import type { UnitOfWork } from '../../lib/db/unit-of-work.ts';
import type { PaymentEvent, PaymentEventAnswer } from '../../contracts/provider-api.ts';
import type { Clock } from '../../lib/clock.ts';
import type { RandomSource } from '../../lib/ids.ts';
import { markDoneSoon, topic } from '../../lib/outbox/outbox.ts';
import { enqueue } from '../outbox.ts';
import { DomainError } from '../../lib/errors.ts';
import type { Log } from '../../lib/log.ts';
import { grantEntitlement } from '../entitlements/entitlements.ts';
import type { OrderEvents } from '../core/order-events.ts';
import { findOrder, moveOrder, setTriesLeft, type OrderRow } from '../orders/order-store.ts';
import { orderTimeline, type EntryOf } from '../orders/order-timeline.ts';
import { toAdminOrder } from '../orders/order-view.ts';
import type { OrderEnding } from '../orders/order-ending.ts';
import { contestedStore } from '../contested/contested-store.ts';
import type { RefundsService } from '../refunds/refunds-service.ts';
import type { SubscriptionsService } from '../subscriptions/subscriptions-service.ts';
import type { BackendDb, BackendTables } from '../schema.ts';
import type { FulfilmentHooks } from '../webhooks/webhook-delivery.ts';
import type { WebhooksService } from '../webhooks/webhooks-service.ts';
import { countNothing, type Count } from '../../lib/metrics/service-metrics.ts';

export const FULFIL_TOPIC = topic<{ orderId: string }>('order.fulfil');
/** How long after the payment the outbox turns an order on if the inline run did not (a crash, a failure). */
const FULFIL_FALLBACK_MS = 5000;

type EventResult = PaymentEventAnswer['result'];

/** A message and what it did, as its order's timeline keeps it. */
const messageNote = (msg: PaymentEvent, now: Date, result: EventResult): EntryOf => ({
  at: now,
  kind: 'message',
  summary: `${msg.type} ${result}`,
  detail: {
    messageId: msg.messageId,
    paymentId: msg.paymentId,
    attempt: msg.attempt,
    ...(msg.failureCode ? { failureCode: msg.failureCode } : {}),
  },
});

// Every message from the payment server goes into the inbox, and a repeat reads its first answer there:
// built and compiled once (preparedQuery).
const intoInbox = preparedQuery((db: BackendDb, messageId: string, result: EventResult, receivedAt: string) =>
  db
    .insertInto('inbox')
    .values({ message_id: messageId, result, received_at: receivedAt })
    .onConflict((oc) => oc.column('message_id').doNothing())
    .returning('message_id'),
);
const inboxAnswer = preparedQuery((db: BackendDb, messageId: string) =>
  db.selectFrom('inbox').select('result').where('message_id', '=', messageId),
);

/** Thrown when the inbox already holds a message: its repeated effect is rolled back. */
class SeenBefore extends Error {
  constructor() {
    super('the message was applied before');
  }
}

/** What a message's effect took, told after its commit: the fulfilment it queued, the order as it left it. */
interface Took {
  fulfilMessage?: string;
  order?: OrderRow;
}

export interface PaymentEventsDeps {
  db: BackendDb;
  events: OrderEvents;
  ending: OrderEnding;
  refunds: RefundsService;
  webhooks: WebhooksService;
  subscriptions: SubscriptionsService;
  random: RandomSource;
  clock: Clock;
  /** Its transactions, which wake the outbox once they have committed if they wrote to it. */
  work: UnitOfWork<BackendTables>;
  log: Log;
  /** With the operator's provisioning URL: `order.paid` goes there, and only its 2xx fulfils. */
  fulfilment?: { url: string; secret: string; deadlineSeconds: number };
  /** Counts the refunds whose outcome was applied (the service's metrics); nothing when left out. */
  count?: Count;
}

/**
 * Receives payment and refund outcomes exactly once: the message id goes
 * into the inbox in the same transaction as its effect, and a repeated
 * message gets the first answer again. Paid orders are then provisioned: by
 * tvpay's own entitlements through the outbox, or, with a provisioning URL,
 * when the operator's system answers 2xx to the signed `order.paid`.
 */
export class PaymentEvents {
  private readonly db: BackendDb;
  private readonly events: OrderEvents;
  private readonly ending: OrderEnding;
  private readonly refunds: RefundsService;
  private readonly webhooks: WebhooksService;
  private readonly subscriptions: SubscriptionsService;
  private readonly random: RandomSource;
  private readonly clock: Clock;
  private readonly work: UnitOfWork<BackendTables>;
  private readonly log: Log;
  private readonly fulfilment: PaymentEventsDeps['fulfilment'];
  private readonly count: Count;

  constructor(deps: PaymentEventsDeps) {
    ({
      db: this.db,
      events: this.events,
      ending: this.ending,
      refunds: this.refunds,
      webhooks: this.webhooks,
      subscriptions: this.subscriptions,
      random: this.random,
      clock: this.clock,
      work: this.work,
      log: this.log,
      fulfilment: this.fulfilment,
    } = deps);
    this.count = deps.count ?? countNothing;
  }

  async apply(msg: PaymentEvent): Promise<PaymentEventAnswer> {
    const now = this.clock.now();
    let took: Took = {};
    // The effect first, then the message into the inbox, whose conflict tells a repeat: a repeat's effect is then
    // rolled back whole and the first answer read (a repeat is rare; the message it repeats is read only then).
    const outcome = await this.work
      .run(async (trx) => {
        took = {};
        const result = await this.effect(trx, msg, now, took);
        const first = (await intoInbox(trx, msg.messageId, result, now.toISOString())).rows[0];
        if (!first) throw new SeenBefore();
        return { result, duplicate: false };
      })
      .catch(async (err: unknown) => {
        // A repeat, or an effect that failed on one (it was applied already): the first answer, as it was given. The
        // first answer is committed by now (on SQLite a refused unit settles only once its batch is durable).
        const seen = (await inboxAnswer(this.db, msg.messageId)).rows[0];
        if (seen) return { result: seen.result as EventResult, duplicate: true };
        throw err;
      });
    if (!outcome.duplicate && outcome.result === 'applied' && msg.type === 'payment.completed')
      crashPoint('backend.after-paid');
    if (!outcome.duplicate && outcome.result === 'applied') {
      // Counted once its transaction committed, and once per message (the inbox turns a repeat away).
      if (msg.type === 'refund.succeeded' || msg.type === 'refund.failed')
        this.count({ event: 'refund_finished', status: msg.type === 'refund.failed' ? 'failed' : 'succeeded' });
      this.events.publish(msg.orderId, took.order);
      // Turned on at once, here; the outbox message is the fallback (a crash just now, a failure), not a queue
      // to wait in: on a renewal day it waited behind a hundred thousand other messages.
      // Not awaited: the payment server's message is answered once the payment is recorded, as before.
      if (took.fulfilMessage) void this.fulfilNow(msg.orderId, took.fulfilMessage);
    }
    return outcome;
  }

  private async fulfilNow(orderId: string, message: string): Promise<void> {
    try {
      await this.fulfil({ orderId });
      await markDoneSoon(this.db, message, this.clock.now());
    } catch (err) {
      this.log.warn({ err, orderId }, 'turning the order on failed; the outbox retries it');
    }
  }

  private async effect(trx: BackendDb, msg: PaymentEvent, now: Date, took: Took): Promise<EventResult> {
    if (msg.type === 'refund.succeeded' || msg.type === 'refund.failed') return this.refunds.settle(trx, msg, now);
    if (msg.type === 'payment.code_rejected')
      return (await setTriesLeft(trx, msg.orderId, msg.attempt, msg.triesLeft ?? 0, now)) ? 'applied' : 'ignored';
    // The usual case first, with no read: the payment of an open order at its price. Only when that move is refused
    // is the order read, to tell which case it is (as the checks below, in their order).
    if (msg.type === 'payment.completed' && (await this.takePayment(trx, msg, now, took, true))) return 'applied';
    const order = await findOrder(trx, msg.orderId);
    if (!order) {
      if (msg.type !== 'payment.completed') return 'ignored';
      await contestedStore.record(
        trx,
        msg,
        'payment_for_unknown_order',
        'a payment for an order the back-end does not have',
        now,
      );
      return 'rejected';
    }
    return this.noted(trx, msg, now, await this.paymentEffect(trx, order, msg, now, took));
  }

  /** The message and what it did, in its order's timeline. */
  private async noted(trx: BackendDb, msg: PaymentEvent, now: Date, result: EventResult): Promise<EventResult> {
    const note = messageNote(msg, now, result);
    await orderTimeline.add(trx, msg.orderId, now, note.kind, note.summary, note.detail);
    return result;
  }

  /**
   * Marks the order paid by `msg`, if it is open and its price is the payment's (one conditional UPDATE), and queues
   * what follows a payment; the order as it left it, or undefined when it was refused. With `noted`, the message goes
   * into the order's timeline with the move (one statement on PostgreSQL, the move's own entry's on SQLite).
   */
  private async takePayment(
    trx: BackendDb,
    msg: PaymentEvent,
    now: Date,
    took: Took,
    noted = false,
  ): Promise<OrderRow | undefined> {
    // A rail's QR payment is taken whatever phone attempt was pending (the payment server released it when
    // the scan settled): no attempt guard, only an open order. Its channel becomes `scan`.
    const paid = await moveOrder(
      trx,
      msg.orderId,
      'paid',
      now,
      {
        paid_at: msg.at,
        payment_id: msg.paymentId,
        failure_code: null,
        // Consent counts only for a renewing product: the order's own term, read by the statement.
        renewal_consent: msg.renewalConsent ? sql<number>`case when "renews" <> 0 then 1 else 0 end` : 0,
        paid_source: msg.source ?? null,
        ...(msg.channel === 'scan' ? { channel: 'scan' as const, tries_left: null } : {}),
      },
      { price: { amountMinor: msg.amountMinor, currency: msg.currency } },
      noted ? [messageNote(msg, now, 'applied')] : [],
    );
    if (!paid) return undefined;
    // With a provisioning URL, the order.paid event (whose delivery there is the provisioning) replaces tvpay's own.
    if (!this.fulfilment) {
      const id = this.random.id('obx');
      // Due only after the inline run has had its chance: the outbox is the fallback, not a racer.
      await enqueue(trx, { id, topic: FULFIL_TOPIC, payload: { orderId: paid.id }, now, delayMs: FULFIL_FALLBACK_MS });
      took.fulfilMessage = id;
    }
    took.order = paid;
    await this.webhooks.emit(trx, 'order.paid', () => toAdminOrder(paid), paid.id, now);
    return paid;
  }

  private async paymentEffect(
    trx: BackendDb,
    order: NonNullable<Awaited<ReturnType<typeof findOrder>>>,
    msg: PaymentEvent,
    now: Date,
    took: Took,
  ): Promise<EventResult> {
    if (msg.type === 'payment.failed') {
      const failed = await this.ending.endIn(
        trx,
        order,
        'failed',
        now,
        { failure_code: msg.failureCode ?? 'PAYMENT_FAILED' },
        { attempt: msg.attempt, from: ['awaiting_payment'] },
      );
      return failed ? 'applied' : 'ignored';
    }
    if (Number(order.amount_minor) !== msg.amountMinor || order.currency !== msg.currency) {
      const detail =
        `the payment is ${msg.amountMinor} ${msg.currency}, ` + `the order ${order.amount_minor} ${order.currency}`;
      await contestedStore.record(trx, msg, 'payment_amount_mismatch', detail, now);
      return 'rejected';
    }
    if (order.payment_id === msg.paymentId) return 'applied';
    // The take above was refused, but the order read open at the payment's price: it changed between (the take is
    // tried again, and refused for good only by an order that moved on).
    if (await this.takePayment(trx, msg, now, took)) return 'applied';
    // A second capture of a paid order is in the provider's statement, which reconciliation compares.
    if (!order.payment_id)
      await contestedStore.record(trx, msg, 'payment_for_ended_order', `the order was ${order.status}`, now);
    return 'rejected';
  }

  /**
   * S209: turns on what was bought, exactly once (paid → fulfilled guards it;
   * an order whose provisioning was given up, and is being refunded, stays as
   * it is, whatever answer comes late).
   */
  async fulfil({ orderId }: { orderId: string }): Promise<void> {
    const now = this.clock.now();
    const done = await this.work.run(async (trx) => {
      // Only a paid order with no failure code (one whose provisioning was given up is being refunded):
      // the move's own guard, and the order it returns is the one provisioned (no read before it).
      const order = await moveOrder(
        trx,
        orderId,
        'fulfilled',
        now,
        { fulfilled_at: now.toISOString() },
        { noFailure: true },
      );
      if (!order) return undefined;
      const until = await grantEntitlement(
        trx,
        {
          accountId: order.account_id,
          service: order.service,
          productId: order.product_id,
          orderId,
          durationDays: order.duration_days,
        },
        now,
      );
      const fulfilled = await this.subscriptions.afterFulfil(trx, order, until, now);
      await this.webhooks.emit(trx, 'order.fulfilled', () => toAdminOrder(fulfilled), orderId, now);
      return fulfilled;
    });
    if (done) crashPoint('backend.after-fulfil');
    if (done) this.events.publish(orderId, done);
  }

  /** What the webhook delivery tells provisioning in the operator's system. */
  fulfilmentHooks(): FulfilmentHooks | undefined {
    const f = this.fulfilment;
    if (!f) return undefined;
    return {
      url: f.url,
      secret: f.secret,
      deadline: async (orderId) => {
        const order = await findOrder(this.db, orderId);
        if (!order || order.status !== 'paid' || order.failure_code || !order.paid_at) return undefined;
        return new Date(Date.parse(order.paid_at) + f.deadlineSeconds * 1000);
      },
      succeeded: (orderId) => this.fulfil({ orderId }),
      abandoned: async (orderId) => {
        try {
          await this.refunds.create(
            orderId,
            { reason: "The operator's system did not turn the purchase on in time, so it was refunded." },
            'fulfilment_failed',
          );
          this.log.error(
            { orderId },
            "provisioning in the operator's system did not succeed by its deadline: the order is refunded in full",
          );
          this.events.publish(orderId);
        } catch (err) {
          // Fulfilled or refunded meanwhile: nothing to give back.
          if (!(err instanceof DomainError)) throw err;
        }
      },
    };
  }
}

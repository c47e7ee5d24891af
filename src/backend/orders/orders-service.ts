import { crashPoint } from '../../lib/crash-points.ts';
import type { UnitOfWork } from '../../lib/db/unit-of-work.ts';
import type { Clock } from '../../lib/clock.ts';
import { DomainError, notFound } from '../../lib/errors.ts';
import { onPostgres } from '../../lib/db/dialect-of.ts';
import { isUniqueViolation } from '../../lib/db/unique-violation.ts';
import type { RandomSource } from '../../lib/ids.ts';
import { topic, markDoneSoon } from '../../lib/outbox/outbox.ts';
import { enqueue } from '../outbox.ts';
import { normalizePhone } from '../../lib/phone.ts';
import type { OverLimit, RateLimiter, RateRule } from '../../lib/rate-limiter.ts';
import { SMS_BUDGET_BUCKET } from '../../sms/sms-admin-routes.ts';
import type { ProductsService } from '../catalogue/products.ts';
import type { Device } from '../devices/devices.ts';
import type { BackendDb, BackendTables } from '../schema.ts';
import type { OrderEvents } from '../core/order-events.ts';
import type { OrderEnding } from './order-ending.ts';
import type { OrderListQuery } from '../../contracts/admin-api.ts';
import { FINAL_STATUSES, isFinal, OPEN_STATUSES, type OrderStatus } from '../core/order-state.ts';
import { OrderReadCache } from './order-read-cache.ts';
import {
  dropPayer,
  dueToExpire,
  findOrder,
  insertOrder,
  newOrderRow,
  lockDeviceOrders,
  openOrdersOfDevice,
  searchOrders,
  takePayer,
  type OrderRow,
} from './order-store.ts';

export const START_TOPIC = topic<{ orderId: string; attempt: number }>('payment.start');
/** Tells the payment server that the order's attempts before `attempt` ended without a new payer. */
export const END_ATTEMPT_TOPIC = topic<{ orderId: string; attempt: number }>('payment.end-attempt');
/** How long a payer submission waits for its attempt to run inline before leaving it to the outbox. */
const INLINE_ATTEMPT_MS = 3000;

export interface OrdersOptions {
  orderTtlSeconds: number;
  regions: readonly string[];
  payerPerPhone: RateRule;
  payerPerDevice: RateRule;
  payerPerAccount: RateRule;
  /** Per number prefix (country code and the first digits): SMS-pumping runs walk number ranges. */
  payerPerPrefix: RateRule;
  /** Every payer submission makes an SMS go out: the day's budget is a circuit breaker. */
  smsDailyBudget: RateRule;
  /** Orders a TV may create per window. */
  ordersPerDevice: RateRule;
}

/**
 * What a TV does with an order (claim 1): create it at the catalogue price,
 * hand over the phone number (the terminal identifier), cancel it; and the
 * expiry of orders nobody paid. Each change commits with the outbox messages
 * it needs (start an attempt at the payment server, close the order there).
 */
/** The order, if it is this TV's; another TV's order is not found, as one that does not exist. */
function ownedBy(device: Device, order: OrderRow | undefined): OrderRow {
  if (!order || order.device_id !== device.deviceId) throw notFound('ORDER_NOT_FOUND', 'The order');
  return order;
}

/** Thrown inside a payer submission's transaction when a limit is over, so that its take is rolled back. */
class RefusedByLimit extends Error {
  constructor(readonly over: OverLimit) {
    super('a payer limit is over');
  }
}

/** What OrdersService is built from, named (the composition root builds it in order). */
export interface OrdersDeps {
  db: BackendDb;
  products: ProductsService;
  limiter: RateLimiter;
  events: OrderEvents;
  ending: OrderEnding;
  random: RandomSource;
  clock: Clock;
  options: OrdersOptions;
  /** Its transactions, which wake the outbox once they have committed if they wrote to it. */
  work: UnitOfWork<BackendTables>;
  /**
   * Runs the attempt right away, so the 202 already shows the channel (the
   * outbox runs it later if this fails), from the order as the submission
   * committed it. Resolves once what it changed has committed, with the order
   * as it left it when it took the outcome.
   */
  runAttempt: (order: OrderRow) => Promise<{ order?: OrderRow }>;
  /** Called when the day's SMS budget refuses a send, so operators hear of it. */
  onBudgetExhausted: () => void;
}

export class OrdersService {
  private readonly db: BackendDb;
  private readonly products: ProductsService;
  private readonly limiter: RateLimiter;
  private readonly events: OrderEvents;
  private readonly ending: OrderEnding;
  private readonly random: RandomSource;
  private readonly clock: Clock;
  private readonly options: OrdersOptions;
  private readonly work: UnitOfWork<BackendTables>;
  private readonly runAttempt: OrdersDeps['runAttempt'];
  private readonly onBudgetExhausted: () => void;

  /** What waiting TVs read again and again (their status read), kept until the order changes. */
  private readonly watched = new OrderReadCache({ maxEntries: 100_000, maxAgeMs: 1000 });

  constructor(deps: OrdersDeps) {
    ({
      db: this.db,
      products: this.products,
      limiter: this.limiter,
      events: this.events,
      ending: this.ending,
      random: this.random,
      clock: this.clock,
      options: this.options,
      work: this.work,
      runAttempt: this.runAttempt,
      onBudgetExhausted: this.onBudgetExhausted,
    } = deps);
    this.events.watch(this.watched);
  }

  /**
   * Creates an order at the catalogue price. A TV has one open order at most:
   * creating one ends the TV's previous open order in the same transaction
   * (cancelled, `REPLACED`; the payment server releases its holds, and a
   * payment that still arrives for it is refused and refunded). A partial
   * unique index makes that hold under concurrent creations too: the loser
   * runs again and replaces the winner. The usual TV has no open order, so
   * the insert comes first, without looking for one, and does nothing when the
   * index finds one open (no error, nothing rolled back); only then are the
   * open orders read and ended, and the order inserted.
   *
   * On PostgreSQL the TV's limit is taken first by a statement of its own, and the usual insert (the order, its
   * timeline entry and its announcement: one WITH statement) runs on its own too: two statements, no BEGIN and
   * COMMIT (issue 30). Only a TV with an open order runs a unit of work, to replace it, under the device's lock
   * (lockDeviceOrders), so concurrent replacements queue instead of colliding. A creation that fails after its limit
   * was taken stays counted, as a refused payer submission does.
   */
  async create(device: Device, productId: string): Promise<OrderRow> {
    const product = await this.products.get(productId);
    const now = this.clock.now();
    const row = newOrderRow({
      id: this.random.id('ord'),
      device_id: device.deviceId,
      account_id: device.accountId,
      product_id: product.productId,
      title: product.title,
      amount_minor: product.amountMinor,
      currency: product.currency,
      service: product.service,
      duration_days: product.durationDays,
      created_at: now.toISOString(),
      expires_at: new Date(now.getTime() + this.options.orderTtlSeconds * 1000).toISOString(),
      renews: product.renews ? 1 : 0,
    });
    const limit = [{ key: `orders-device:${device.deviceId}`, rule: this.options.ordersPerDevice }];
    const counted = onPostgres(this.db);
    if (counted) {
      const over = await this.limiter.count(this.db, limit);
      if (over) throw this.limiter.refusal(over);
      if (await insertOrder(this.db, row, true)) return row;
    }
    for (let run = 1; ; run++) {
      try {
        const outcome = await this.work.run(async (trx) => {
          await lockDeviceOrders(trx, device.deviceId);
          const over = counted ? undefined : await this.limiter.count(trx, limit);
          const replaced: string[] = [];
          if (over || (await insertOrder(trx, row, true))) return { over, replaced };
          for (const o of await openOrdersOfDevice(trx, device.deviceId))
            if (await this.ending.endIn(trx, o, 'cancelled', now, { failure_code: 'REPLACED' })) replaced.push(o.id);
          await insertOrder(trx, row);
          return { over: undefined, replaced };
        });
        if (outcome.over) throw this.limiter.refusal(outcome.over);
        for (const id of outcome.replaced) this.ending.announce(id);
        return row;
      } catch (err) {
        if (!isUniqueViolation(err) || run >= 5) throw err;
      }
    }
  }

  /** A device's own order; another device's order is "not found", revealing nothing. */
  async getOwn(device: Device, orderId: string): Promise<OrderRow> {
    return ownedBy(device, await findOrder(this.db, orderId));
  }

  /**
   * The TV's status read: the order as this instance last read it, never
   * older than the last change it was told of (OrderReadCache). Only for
   * showing; every decision reads the store.
   */
  async readOwn(device: Device, orderId: string): Promise<OrderRow> {
    return ownedBy(device, await this.watched.read(orderId, () => findOrder(this.db, orderId)));
  }

  /** readOwn, answered at once when the order is kept; undefined when it has to be read. */
  readOwnKept(device: Device, orderId: string): OrderRow | undefined {
    const kept = this.watched.kept(orderId);
    return kept && ownedBy(device, kept);
  }

  /**
   * A reader read the order from the store (an event stream's own read): an older row kept is dropped, so a change
   * nobody announced is not served stale to the status read either.
   */
  saw(order: OrderRow): void {
    this.watched.saw(order);
  }

  async get(orderId: string): Promise<OrderRow> {
    const order = await findOrder(this.db, orderId);
    if (!order) throw notFound('ORDER_NOT_FOUND', 'The order');
    return order;
  }

  /**
   * Takes the payer's phone. A new submission while awaiting payment replaces
   * the pending attempt (the attempt number goes up in the same conditional
   * update, so concurrent submissions are ordered and only the last one can
   * hold money at the payment server).
   *
   * The take is the first statement: its conditional UPDATE checks that the
   * order is this TV's, open and not expired, and the order is read only when
   * it refuses, to say why (not found, paid, final, changed meanwhile), so a
   * submission the order refuses counts against no limit, as before. The
   * limits count after it in the same transaction (one durable commit); when
   * one is over, the take is rolled back and the refused submission is counted
   * in a transaction of its own, changing nothing else.
   */
  async submitPayer(
    device: Device,
    orderId: string,
    phoneInput: unknown,
  ): Promise<{ order: OrderRow; attempt: number }> {
    const phone = normalizePhone(phoneInput, this.options.regions);
    const now = this.clock.now();
    const startMessage = this.random.id('obx');
    const limits = this.payerLimits(device, phone);
    const outcome = await this.work
      .run(async (trx) => {
        const taken = await takePayer(trx, orderId, phone, now, { deviceId: device.deviceId });
        if (taken === undefined) return { taken };
        const over = await this.limiter.count(trx, limits);
        if (over) throw new RefusedByLimit(over);
        // Due only after the inline run below has had its chance (3 s): the outbox is the fallback, not a racer.
        await enqueue(trx, {
          id: startMessage,
          topic: START_TOPIC,
          payload: { orderId, attempt: taken.attempt },
          now,
          delayMs: INLINE_ATTEMPT_MS + 2000,
        });
        return { taken };
      })
      .catch((err: unknown) => {
        if (err instanceof RefusedByLimit) return { taken: undefined, over: err.over };
        throw err;
      });
    if ('over' in outcome) {
      await this.work.run((trx) => this.limiter.count(trx, limits));
      if (outcome.over.rule === this.options.smsDailyBudget) this.onBudgetExhausted();
      throw this.limiter.refusal(outcome.over);
    }
    const taken = outcome.taken;
    if (taken === undefined) {
      this.assertOpen(await this.getOwn(device, orderId), true);
      throw new Error('unreachable: assertOpen after a race always refuses');
    }
    crashPoint('backend.after-payer');
    this.events.publish(orderId, taken);
    // The order as the submission committed it goes to the run (no read), and the run's own result is the answer.
    const ranInline = await Promise.race([
      this.runAttempt(taken).catch(() => 'failed' as const),
      new Promise<'late'>((r) => setTimeout(() => r('late'), INLINE_ATTEMPT_MS).unref()),
    ]);
    // Done here, so the outbox need not run the attempt a second time; otherwise it retries it. Marked only now that
    // the run's change has committed, with the other marks of its tick, and the TV is not kept waiting for it: a lost
    // mark leaves the delayed retry, which finds the attempt started and does nothing.
    if (typeof ranInline === 'object') void markDoneSoon(this.db, startMessage, this.clock.now()).catch(() => {});
    const after = typeof ranInline === 'object' ? ranInline.order : undefined;
    return { order: after ?? (await this.get(orderId)), attempt: taken.attempt };
  }

  /** The limits a payer submission counts against, in the order they are checked. */
  private payerLimits(device: Device, phone: string): Array<{ key: string; rule: RateRule }> {
    return [
      { key: `payer-phone:${phone}`, rule: this.options.payerPerPhone },
      { key: `payer-device:${device.deviceId}`, rule: this.options.payerPerDevice },
      { key: `payer-account:${device.accountId}`, rule: this.options.payerPerAccount },
      { key: `payer-prefix:${phone.slice(0, 8)}`, rule: this.options.payerPerPrefix },
      // Last, so that only submissions the other limits let through spend the day's SMS budget.
      { key: SMS_BUDGET_BUCKET, rule: this.options.smsDailyBudget },
    ];
  }

  /**
   * "Change number" (issue 32): ends the pending attempt at once, while the order stays open for the next
   * number. The payment server is told through the outbox in the same transaction (the old code is then
   * refused and its hold released), so the first phone cannot pay while the TV shows an empty keypad.
   * An order with no payer is answered as it is; a paid or ended one is 409 (the TV then follows it).
   */
  async dropPayer(device: Device, orderId: string): Promise<OrderRow> {
    const order = await this.getOwn(device, orderId);
    this.assertOpen(order);
    if (order.status !== 'awaiting_payment' || order.payer_phone === null) return order;
    const now = this.clock.now();
    const attempt = await this.work.run(async (trx) => {
      const next = await dropPayer(trx, orderId, order.attempt, now);
      if (next !== undefined)
        await enqueue(trx, {
          id: this.random.id('obx'),
          topic: END_ATTEMPT_TOPIC,
          payload: { orderId, attempt: next },
          now,
        });
      return next;
    });
    if (attempt === undefined) {
      // A retry, or a concurrent call, ended it first: the same answer; anything else moved the order on.
      const now = await this.get(orderId);
      if (now.status === 'awaiting_payment' && now.payer_phone === null) return now;
      this.assertOpen(now, true);
    }
    this.events.publish(orderId);
    return this.get(orderId);
  }

  async cancel(device: Device, orderId: string): Promise<OrderRow> {
    const order = await this.getOwn(device, orderId);
    this.assertOpen(order);
    const moved = await this.ending.end(orderId, 'cancelled');
    if (!moved) this.assertOpen(await this.get(orderId), true);
    return this.get(orderId);
  }

  /**
   * Operators' search, newest first, a page at a time. The cursor is opaque
   * to callers: the last order of the page, so a page never shifts under
   * orders created meanwhile.
   */
  async search(q: OrderListQuery): Promise<{ items: OrderRow[]; nextCursor: string | null }> {
    const limit = q.limit === undefined ? 50 : Number(q.limit);
    if (
      q.status &&
      !(
        FINAL_STATUSES.includes(q.status as OrderStatus) ||
        OPEN_STATUSES.includes(q.status as OrderStatus) ||
        q.status === 'paid'
      )
    ) {
      throw new DomainError(
        'VALIDATION_FAILED',
        `status "${q.status}" is not an order status; ` +
          `use one of created, awaiting_payment, paid, ${FINAL_STATUSES.join(', ')}.`,
      );
    }
    let after: { createdAt: string; id: string } | undefined;
    if (q.cursor) {
      const [createdAt, id] = Buffer.from(q.cursor, 'base64url').toString('utf8').split('|');
      if (!createdAt || !id)
        throw new DomainError(
          'VALIDATION_FAILED',
          'cursor is not one this API gave; pass the nextCursor of the previous page unchanged.',
        );
      after = { createdAt, id };
    }
    const time = (name: string, v: string | undefined) => {
      if (v === undefined) return undefined;
      const t = Date.parse(v);
      if (Number.isNaN(t))
        throw new DomainError('VALIDATION_FAILED', `${name} "${v}" is not a date or an RFC 3339 time.`);
      return new Date(t).toISOString();
    };
    const items = await searchOrders(this.db, {
      status: q.status as OrderStatus | undefined,
      phone: q.phone === undefined ? undefined : normalizePhone(q.phone, this.options.regions),
      deviceId: q.deviceId,
      accountId: q.accountId,
      paymentId: q.paymentId,
      refundId: q.refundId,
      from: time('from', q.from),
      to: time('to', q.to),
      limit,
      after,
    });
    const last = items.length === limit ? items[items.length - 1] : undefined;
    return { items, nextCursor: last ? Buffer.from(`${last.created_at}|${last.id}`).toString('base64url') : null };
  }

  /** Expires orders past their time; safe to run from several places at once. */
  async expireDue(): Promise<number> {
    const now = this.clock.now().toISOString();
    let n = 0;
    for (const id of await dueToExpire(this.db, now, 500))
      if (await this.ending.end(id, 'expired', {}, { expiresBefore: now })) n++;
    return n;
  }

  private assertOpen(order: OrderRow, afterRace = false): void {
    if (order.status === 'paid') throw new DomainError('ORDER_PAID', 'The order is already paid.');
    if (isFinal(order.status))
      throw new DomainError('ORDER_FINAL', `The order is ${order.status}; create a new order.`);
    if (order.expires_at <= this.clock.now().toISOString())
      throw new DomainError('ORDER_FINAL', 'The order has expired; create a new order.');
    if (afterRace) throw new DomainError('ORDER_CHANGED', 'The order changed meanwhile; read it again.');
  }
}

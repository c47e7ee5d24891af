import type { Subscription } from '../../contracts/tv-api.ts';
import type { Clock } from '../../lib/clock.ts';
import { crashPoint } from '../../lib/crash-points.ts';
import { atMostAtOnce } from '../../lib/at-most-at-once.ts';
import type { UnitOfWork } from '../../lib/db/unit-of-work.ts';
import { notFound } from '../../lib/errors.ts';
import type { RandomSource } from '../../lib/ids.ts';
import type { Log } from '../../lib/log.ts';
import { topic } from '../../lib/outbox/outbox.ts';
import { enqueue, queueText } from '../outbox.ts';
import { maskPhone } from '../../lib/phone.ts';
import {
  dayText,
  nothingToCancelSms,
  renewalFailedSms,
  renewalNoticeSms,
  subscriptionCancelledSms,
  subscriptionRefundedSms,
  type Locale,
} from '../../sms/templates.ts';
import { findOrder, insertOrder, setSubscription, type OrderRow } from '../orders/order-store.ts';
import { orderTimeline } from '../orders/order-timeline.ts';
import type { PaymentProvider } from '../core/payment-provider.ts';
import type { BackendDb, BackendTables } from '../schema.ts';
import type { WebhooksService } from '../webhooks/webhooks-service.ts';
import { subscriptionStore, type SubscriptionRow } from './subscription-store.ts';

/** Asks the payment server to charge a renewal order (at least once; it charges each order once). */
export const RENEWAL_TOPIC = topic<{ orderId: string }>('renewal.charge');

const DAY_MS = 24 * 3600 * 1000;
/**
 * Subscriptions read per step and batch of the scheduler's pass, how many batches one pass takes at most, and how many
 * steps run at once.
 */
const BATCH = 200;
const PASS_BATCHES = 10;
const IN_FLIGHT = 32;
const SLOW_STEPS_EVERY_MS = 60_000;
/** After a renewal that could not be charged: tried again this many days after the period's end; then lapsed. */
export const RETRY_DAYS = [1, 3] as const;
/** How long the payment server has to answer a renewal charge before its order expires (and counts as a failed try). */
const RENEWAL_ORDER_TTL_MS = 3600 * 1000;

export interface SubscriptionsOptions {
  noticeDays: number;
  locale: Locale;
  /** Subscription SMS come from the payment server's number, where the payer's TD reply goes. */
  smsFrom: string;
  payee: string;
  timeZone: string;
}

export interface SubscriptionsDeps {
  db: BackendDb;
  provider: PaymentProvider;
  webhooks: WebhooksService;
  random: RandomSource;
  clock: Clock;
  /** Its transactions, which wake the outbox once they have committed if they wrote to it. */
  work: UnitOfWork<BackendTables>;
  log: Log;
  options: SubscriptionsOptions;
  /**
   * The product's current price and title, for the notice and the renewal (a price change applies from the next
   * renewal).
   */
  currentTerms: (productId: string) => Promise<{ amountMinor: number; title: string } | undefined>;
}

export const toSubscription = (s: SubscriptionRow): Subscription => ({
  subscriptionId: s.id,
  accountId: s.account_id,
  productId: s.product_id,
  service: s.service,
  title: s.title,
  amountMinor: Number(s.amount_minor),
  currency: s.currency,
  payerPhoneMasked: maskPhone(s.payer_phone),
  status: s.status,
  currentPeriodEnd: s.current_period_end,
  nextChargeAt: s.status === 'active' ? s.next_charge_at : null,
  cancelledAt: s.cancelled_at,
  createdAt: s.created_at,
});

/**
 * Memberships that renew (the patent's 会员包月, sold as 连续包月): created by
 * the first purchase of a renewing product the payer consented to renew,
 * extended by buying the same service again, announced before every renewal
 * (PRC rules: the date, the amount and how to cancel), renewed by charging the
 * quick-pay agreement at the period's end, retried 1 and 3 days later when
 * that fails, then lapsed. Every step is a conditional UPDATE, so the
 * scheduler may run on several instances at once, and a renewal is an order
 * of its own whose charge the payment server makes once.
 */
export class SubscriptionsService {
  /** When this instance last ran the scheduler's slow steps (by its clock). */
  private slowStepsAt = -Infinity;
  /**
   * Where the backstop's walk through the renewal orders that ended unpaid
   * stopped: each slow step takes the next page after it, and starts over
   * from the oldest once a page comes back short, so that every such order
   * is looked at again now and then, whatever order their transactions
   * committed in.
   */
  private endedAfter: { updatedAt: string; id: string } | undefined;

  constructor(private readonly deps: SubscriptionsDeps) {}

  /**
   * Inside the transaction that fulfilled an order: starts, extends or renews its subscription. The order as it
   * leaves it (tied to the subscription it started or extended), so the caller need not read it again.
   */
  async afterFulfil(trx: BackendDb, order: OrderRow, periodEnd: string, now: Date): Promise<OrderRow> {
    const at = now.toISOString();
    if (order.subscription_id && order.channel === 'renewal') {
      await subscriptionStore.extend(trx, order.subscription_id, periodEnd, Number(order.amount_minor), at);
      await this.emit(trx, 'subscription.renewed', order.subscription_id, now);
      return order;
    }
    if (!order.renews || !order.renewal_consent || !order.payer_phone) return order;
    const existing = await subscriptionStore.activeOf(trx, order.account_id, order.service);
    if (existing) {
      await subscriptionStore.extend(trx, existing.id, periodEnd, Number(existing.amount_minor), at);
      return (await setSubscription(trx, order.id, existing.id)) ?? order;
    }
    const row: SubscriptionRow = {
      id: this.deps.random.id('sub'),
      account_id: order.account_id,
      device_id: order.device_id,
      product_id: order.product_id,
      service: order.service,
      title: order.title,
      amount_minor: Number(order.amount_minor),
      currency: order.currency,
      duration_days: order.duration_days,
      payer_phone: order.payer_phone,
      status: 'active',
      current_period_end: periodEnd,
      next_charge_at: periodEnd,
      failed_tries: 0,
      pending_order_id: null,
      noticed_for: null,
      cancelled_at: null,
      created_at: at,
      updated_at: at,
    };
    await subscriptionStore.insert(trx, row);
    const tied = await setSubscription(trx, order.id, row.id);
    await this.emit(trx, 'subscription.created', row.id, now);
    return tied ?? order;
  }

  /**
   * The scheduler's pass (every service instance runs it; each step is
   * claimed by one). Renewal day puts a whole month's members due at once:
   * the steps of a batch run side by side so their transactions share
   * commits, and full batches follow each other in the same pass, up to
   * PASS_BATCHES, so the charges start within minutes, not hours.
   */
  async runDue(): Promise<number> {
    let n = 0;
    // Notices (days ahead) and the backstop for failed renewals read more than a range of an index: once a minute is
    // soon enough.
    const started = this.deps.clock.now().getTime();
    const slowSteps = started - this.slowStepsAt >= SLOW_STEPS_EVERY_MS || started < this.slowStepsAt;
    if (slowSteps) this.slowStepsAt = started;
    for (let i = 0; i < PASS_BATCHES; i++) {
      const now = this.deps.clock.now();
      const ended = slowSteps ? await this.endedRenewals() : { full: false, subscriptions: [] };
      const failed = ended.subscriptions;
      const noticeDue = slowSteps
        ? await subscriptionStore.dueForNotice(
            this.deps.db,
            new Date(now.getTime() + this.deps.options.noticeDays * DAY_MS).toISOString(),
            BATCH,
          )
        : [];
      const chargeDue = await subscriptionStore.dueForCharge(this.deps.db, now.toISOString(), BATCH);
      const done = [
        ...(await atMostAtOnce(failed, IN_FLIGHT, (s) => this.renewalFailed(s, s.pending_order_id!))),
        ...(await atMostAtOnce(noticeDue, IN_FLIGHT, (s) => this.notice(s))),
        ...(await atMostAtOnce(chargeDue, IN_FLIGHT, async (s) => {
          if (!(await this.startRenewal(s))) return false;
          crashPoint('backend.after-renewal-claim');
          return true;
        })),
      ].filter(Boolean).length;
      n += done;
      if (!ended.full && noticeDue.length < BATCH && chargeDue.length < BATCH) break;
    }
    return n;
  }

  /** The backstop's next page: the subscriptions still waiting on a renewal order that has ended unpaid. */
  private async endedRenewals(): Promise<{ full: boolean; subscriptions: SubscriptionRow[] }> {
    const orders = await subscriptionStore.renewalOrdersEnded(this.deps.db, this.endedAfter, BATCH);
    const last = orders.at(-1);
    const full = orders.length === BATCH && last !== undefined;
    this.endedAfter = full ? { updatedAt: last.updated_at, id: last.id } : undefined;
    return {
      full,
      subscriptions: await subscriptionStore.pendingOn(
        this.deps.db,
        orders.map((o) => o.id),
      ),
    };
  }

  /** The notice before a renewal, once per period, with the price it will be charged at. */
  private async notice(s: SubscriptionRow): Promise<boolean> {
    const terms = await this.deps.currentTerms(s.product_id);
    const amountMinor = terms?.amountMinor ?? Number(s.amount_minor);
    const { locale, payee, timeZone } = this.deps.options;
    const text = renewalNoticeSms(locale, {
      product: s.title,
      payee,
      amountMinor,
      currency: s.currency,
      date: dayText(locale, s.current_period_end, timeZone),
      previousMinor: Number(s.amount_minor),
    });
    return this.deps.work.run(async (trx) => {
      if (!(await subscriptionStore.noticed(trx, s.id, s.current_period_end))) return false;
      await this.text(trx, 'renewal-notice', s.payer_phone, text, s.id);
      return true;
    });
  }

  /**
   * Claims the due charge and makes its renewal order, in one transaction; the payment server is asked through the
   * outbox.
   */
  private async startRenewal(s: SubscriptionRow): Promise<boolean> {
    const now = this.deps.clock.now();
    const terms = await this.deps.currentTerms(s.product_id);
    const orderId = this.deps.random.id('ord');
    return this.deps.work.run(async (trx) => {
      if (!(await subscriptionStore.claimCharge(trx, s.id, orderId, now.toISOString()))) return false;
      const order: OrderRow = {
        id: orderId,
        device_id: s.device_id,
        account_id: s.account_id,
        product_id: s.product_id,
        title: terms?.title ?? s.title,
        amount_minor: terms?.amountMinor ?? Number(s.amount_minor),
        currency: s.currency,
        service: s.service,
        duration_days: s.duration_days,
        status: 'awaiting_payment',
        channel: 'renewal',
        payer_phone: s.payer_phone,
        attempt: 1,
        link_token_sealed: '',
        failure_code: null,
        payment_id: null,
        created_at: now.toISOString(),
        expires_at: new Date(now.getTime() + RENEWAL_ORDER_TTL_MS).toISOString(),
        paid_at: null,
        fulfilled_at: null,
        updated_at: now.toISOString(),
        refund_reserved_minor: 0,
        refunded_minor: 0,
        subscription_id: s.id,
        renewal_consent: 1,
        renews: 1,
        tries_left: null,
        paid_source: null,
        version: 0,
      };
      await insertOrder(trx, order);
      await orderTimeline.add(
        trx,
        orderId,
        now,
        'message',
        `renewal of subscription ${s.id} (try ${s.failed_tries + 1})`,
        { subscriptionId: s.id },
      );
      await enqueue(trx, { id: this.deps.random.id('obx'), topic: RENEWAL_TOPIC, payload: { orderId }, now });
      return true;
    });
  }

  /** The outbox handler: the payment server charges the order once, however often it is asked. */
  async requestCharge({ orderId }: { orderId: string }): Promise<void> {
    const order = await findOrder(this.deps.db, orderId);
    if (!order || order.status !== 'awaiting_payment' || !order.payer_phone) return;
    await this.deps.provider.renew({
      orderId,
      phone: order.payer_phone,
      amountMinor: Number(order.amount_minor),
      currency: order.currency,
      productTitle: order.title,
      payee: this.deps.options.payee,
      deviceId: order.device_id,
      expiresAt: order.expires_at,
      renewsEveryDays: order.duration_days,
    });
  }

  /**
   * Inside the transaction that ended an order (OrderEnding): when it was a
   * subscription's pending renewal, that try failed, and is recorded with the
   * end. The scheduler's backstop finds any that ended otherwise.
   */
  async orderEndedIn(trx: BackendDb, orderId: string, now: Date): Promise<void> {
    const order = await findOrder(trx, orderId);
    if (order?.channel !== 'renewal' || !order.subscription_id) return;
    const s = await subscriptionStore.byId(trx, order.subscription_id);
    if (s?.status === 'active' && s.pending_order_id === orderId) await this.renewalFailedIn(trx, s, orderId, now);
  }

  /** A renewal order ended without paying: the next try (1, then 3 days after the period's end), or lapsed. */
  private async renewalFailed(s: SubscriptionRow, orderId: string): Promise<boolean> {
    const now = this.deps.clock.now();
    return this.deps.work.run((trx) => this.renewalFailedIn(trx, s, orderId, now));
  }

  private async renewalFailedIn(trx: BackendDb, s: SubscriptionRow, orderId: string, now: Date): Promise<boolean> {
    const tries = s.failed_tries + 1;
    const retryDays = RETRY_DAYS[tries - 1];
    const next =
      retryDays === undefined ? null : new Date(Date.parse(s.current_period_end) + retryDays * DAY_MS).toISOString();
    const { locale, payee, timeZone } = this.deps.options;
    if (
      !(await subscriptionStore.chargeFailed(
        trx,
        s.id,
        orderId,
        { nextChargeAt: next, lapse: next === null },
        now.toISOString(),
      ))
    )
      return false;
    await this.emit(trx, 'subscription.renewal_failed', s.id, now);
    if (next === null) await this.emit(trx, 'subscription.lapsed', s.id, now);
    const text = renewalFailedSms(locale, {
      product: s.title,
      payee,
      amountMinor: Number(s.amount_minor),
      currency: s.currency,
      retryDate: next ? dayText(locale, next, timeZone) : null,
    });
    await this.text(trx, next ? 'renewal-failed' : 'renewal-lapsed', s.payer_phone, text, s.id);
    return true;
  }

  /**
   * Cancels renewals at once (the period paid for is kept); the payer is told. By a TV of the account, or an operator.
   */
  async cancel(subscriptionId: string, by: { accountId?: string } = {}): Promise<Subscription> {
    const s = await subscriptionStore.byId(this.deps.db, subscriptionId);
    if (!s || (by.accountId !== undefined && s.account_id !== by.accountId))
      throw notFound('SUBSCRIPTION_NOT_FOUND', 'The subscription');
    await this.deps.work.run((trx) => this.cancelIn(trx, s));
    return toSubscription((await subscriptionStore.byId(this.deps.db, subscriptionId))!);
  }

  /**
   * The payer replied TD (取消, 退订…): every active subscription of the phone is cancelled, and the reply is answered
   * either way.
   */
  async cancelByPhone(phone: string): Promise<number> {
    const active = await subscriptionStore.activeOfPhone(this.deps.db, phone);
    let cancelled = 0;
    await this.deps.work.run(async (trx) => {
      cancelled = 0;
      for (const s of active) if (await this.cancelIn(trx, s)) cancelled++;
      if (cancelled === 0)
        await this.text(
          trx,
          'cancel-nothing',
          phone,
          nothingToCancelSms(this.deps.options.locale, { payee: this.deps.options.payee }),
          null,
        );
    });
    return cancelled;
  }

  /**
   * Inside the transaction that refunded an order in full: the subscription it started or renewed ends
   * (`cancelled`) and the payer is told, so nothing paid back is charged again a period later. A partial
   * refund is not a full one and leaves it as it is.
   */
  async refundedIn(trx: BackendDb, order: OrderRow, now: Date): Promise<void> {
    if (!order.subscription_id) return;
    const s = await subscriptionStore.byId(trx, order.subscription_id);
    if (!s || !(await subscriptionStore.cancel(trx, s.id, now.toISOString()))) return;
    const { locale, payee } = this.deps.options;
    await this.text(
      trx,
      'cancelled',
      s.payer_phone,
      subscriptionRefundedSms(locale, { product: s.title, payee }),
      s.id,
    );
    await this.emit(trx, 'subscription.cancelled', s.id, now);
  }

  private async cancelIn(trx: BackendDb, s: SubscriptionRow): Promise<boolean> {
    const now = this.deps.clock.now();
    if (!(await subscriptionStore.cancel(trx, s.id, now.toISOString()))) return false;
    const { locale, payee, timeZone } = this.deps.options;
    await this.text(
      trx,
      'cancelled',
      s.payer_phone,
      subscriptionCancelledSms(locale, {
        product: s.title,
        payee,
        until: dayText(locale, s.current_period_end, timeZone),
      }),
      s.id,
    );
    await this.emit(trx, 'subscription.cancelled', s.id, now);
    return true;
  }

  async listForAccount(accountId: string): Promise<Subscription[]> {
    return (await subscriptionStore.list(this.deps.db, { accountId })).map(toSubscription);
  }

  async listAdmin(f: { accountId?: string; phone?: string; status?: string }): Promise<Subscription[]> {
    return (await subscriptionStore.list(this.deps.db, f)).map(toSubscription);
  }

  /** A subscription SMS (notice, cancellation, failed renewal), queued with the change it tells of. */
  private async text(trx: BackendDb, kind: string, to: string, text: string, ref: string | null): Promise<void> {
    await queueText(trx, this.deps.random, {
      kind,
      to,
      from: this.deps.options.smsFrom,
      text,
      now: this.deps.clock.now(),
      ...(ref ? { ref } : {}),
    });
  }

  private async emit(
    trx: BackendDb,
    type:
      | 'subscription.created'
      | 'subscription.renewed'
      | 'subscription.renewal_failed'
      | 'subscription.cancelled'
      | 'subscription.lapsed',
    id: string,
    now: Date,
  ): Promise<void> {
    await this.deps.webhooks.emit(
      trx,
      type,
      async () => toSubscription((await subscriptionStore.byId(trx, id))!),
      null,
      now,
    );
  }
}

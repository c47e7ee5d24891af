import type { RailsAnswer, ScanAnswer } from '../../contracts/provider-api.ts';
import type { Clock } from '../../lib/clock.ts';
import { DomainError } from '../../lib/errors.ts';
import { PeerError } from '../../lib/http/service-auth.ts';
import type { Log } from '../../lib/log.ts';
import type { Device } from '../devices/devices.ts';
import { OPEN_STATUSES } from '../core/order-state.ts';
import type { OrderRow } from '../orders/order-store.ts';
import type { PaymentProvider } from '../core/payment-provider.ts';

export type RailName = RailsAnswer[number]['rail'];

/** What RailsService is built from. */
export interface RailsDeps {
  provider: Pick<PaymentProvider, 'rails' | 'scan'>;
  /** A device's own order (another device's is "not found"). */
  ownOrder: (device: Device, orderId: string) => Promise<OrderRow>;
  clock: Clock;
  payee: string;
  log: Log;
  /** How long the list of rails that are on is kept: every TV opening "check your phone" asks for it. */
  cacheMs: number;
}

/**
 * The money rails as a TV sees them (issue 28): which are on, and a rail's QR code for an open order,
 * fetched from the payment server, which alone talks to the rails. A scan payment arrives later as a
 * signed payment event like any other (PaymentEvents), so nothing here changes an order.
 */
export class RailsService {
  private kept: { until: number; rails: RailsAnswer } | undefined;

  constructor(private readonly deps: RailsDeps) {}

  /**
   * The rails that are on, kept `cacheMs`. If the payment server cannot say, none: the TV then shows the
   * phone's QR code alone, which is what it must do when a rail is down anyway.
   */
  async list(): Promise<RailsAnswer> {
    const now = this.deps.clock.now().getTime();
    if (this.kept && this.kept.until > now) return this.kept.rails;
    let rails: RailsAnswer;
    try {
      rails = await this.deps.provider.rails();
    } catch (err) {
      this.deps.log.warn({ err }, 'the payment server did not say which rails are on; none are shown');
      rails = [];
    }
    this.kept = { until: now + this.deps.cacheMs, rails };
    return rails;
  }

  /**
   * The QR code of `rail` for the device's own open order. A rail that is off (or cannot be reached) is
   * 409 RAIL_UNAVAILABLE; an order that is paid, ended or past its time is 409 ORDER_FINAL.
   */
  async scan(device: Device, orderId: string, rail: RailName): Promise<ScanAnswer> {
    const order = await this.deps.ownOrder(device, orderId);
    const now = this.deps.clock.now().toISOString();
    if (!OPEN_STATUSES.includes(order.status) || order.expires_at <= now)
      throw new DomainError('ORDER_FINAL', `The order is ${order.status}; it can no longer be paid by a QR code.`);
    if (!(await this.list()).some((r) => r.rail === rail)) throw unavailable(rail);
    try {
      return await this.deps.provider.scan({
        orderId: order.id,
        rail,
        amountMinor: Number(order.amount_minor),
        currency: order.currency,
        productTitle: order.title,
        payee: this.deps.payee,
        deviceId: order.device_id,
        expiresAt: order.expires_at,
        ...(order.renews ? { renewsEveryDays: order.duration_days } : {}),
      });
    } catch (err) {
      const code = err instanceof PeerError && err.status === 409 ? (err.body as { code?: string })?.code : undefined;
      if (code === 'ORDER_FINAL') throw new DomainError('ORDER_FINAL', 'The order can no longer be paid.');
      if (code !== 'RAIL_UNAVAILABLE') this.deps.log.warn({ err, orderId, rail }, 'a rail QR code could not be had');
      // Off, down or unreachable: to the TV all the same, a QR code it cannot show.
      this.kept = undefined;
      throw unavailable(rail);
    }
  }
}

const unavailable = (rail: string) =>
  new DomainError('RAIL_UNAVAILABLE', `${rail} is not available now; pay with the phone, or by another rail.`);

import { handler } from '../../lib/outbox/outbox.ts';
import { countedGauge } from '../../lib/metrics/row-counts.ts';
import { serviceBasics, type Offers, type PayserverCore } from '../feature.ts';
import type { Ledger } from '../ledger/ledger.ts';
import { paymentStore } from '../settlement/payment-store.ts';
import { RAIL_LATE_REFUND_TOPIC, RAIL_REFUND_TOPIC } from '../rails/rail-topics.ts';
import type { RailRegistry } from '../rails/registry.ts';
import { PAYSERVER_COUNTED } from '../schema.ts';
import { RailRefunds } from './rail-refunds.ts';
import { lateRefundId, REFUND_SMS_TOPIC, RefundsService } from './refunds-service.ts';

/**
 * Refunds: the back-end's refunds of a payment, those of a rail's payment (asked of the rail through the
 * outbox), and the refund in full of a payment that arrived for an order that had already ended.
 */
export function createRefunds(
  core: Pick<PayserverCore, 'db' | 'gateway' | 'random' | 'clock' | 'work' | 'config'>,
  deps: { ledger: Ledger; rails: RailRegistry },
) {
  const { db } = core;
  const { locale, payserverFrom } = core.config.sms;
  const service = new RefundsService({
    ...serviceBasics(core, 'gateway'),
    ledger: deps.ledger,
    options: { locale, smsFrom: payserverFrom },
  });
  const rail = new RailRefunds({ ...serviceBasics(core), ledger: deps.ledger, rails: deps.rails, refunds: service });
  /** A payment that arrived for an order already ended or paid goes back in full, as the back-end would ask. */
  const refundLate = async (paymentId: string) => {
    const payment = await paymentStore.byId(db, paymentId);
    if (!payment) return;
    await service.refund({
      refundId: lateRefundId(paymentId),
      orderId: payment.order_id,
      paymentId,
      amountMinor: Number(payment.amount_minor),
      currency: payment.currency,
      reason: 'The order had ended when the payment arrived.',
    });
  };
  return {
    service,
    rail,
    refundLate,
    handlers: [
      handler(REFUND_SMS_TOPIC, (p) => service.sendReceipt(p)),
      handler(RAIL_REFUND_TOPIC, (p, id, attempt) => rail.request(p, id, attempt)),
      handler(RAIL_LATE_REFUND_TOPIC, (p) => refundLate(p.paymentId)),
    ],
    gauges: [
      countedGauge(
        db,
        PAYSERVER_COUNTED.refunds,
        'tvpay_provider_refunds',
        'Refunds made at the payment server, by status and source.',
      ),
    ],
  } satisfies Offers;
}

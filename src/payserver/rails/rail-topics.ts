import { topic } from '../../lib/outbox/outbox.ts';

/** Closes a trade at its rail (its order ended, or another payment won); sent after the commit that decided it. */
export const RAIL_CLOSE_TOPIC = topic<{ outTradeNo: string }>('rail.close');

/** A rail payment that settled for an order already paid or ended: it goes back in full, by itself. */
export const RAIL_LATE_REFUND_TOPIC = topic<{ paymentId: string }>('rail.late-refund');

/** Asks a rail to give money back (`refund`, then `queryRefund` until its outcome is learnt). */
export const RAIL_REFUND_TOPIC = topic<{ refundId: string }>('rail.refund');

/** Charges a payment under its agreement at the rail (after the code reply, or a renewal), once. */
export const RAIL_CHARGE_TOPIC = topic<{ outTradeNo: string }>('rail.charge');

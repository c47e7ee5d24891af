import type { PaymentEventAnswer } from '../../contracts/provider-api.ts';
import { crashPoint } from '../../lib/crash-points.ts';
import { countedGauge } from '../../lib/metrics/row-counts.ts';
import { handler } from '../../lib/outbox/outbox.ts';
import type { SmsBudget } from '../../sms/sms-budget.ts';
import type { Payers } from '../accounts/accounts-service.ts';
import type { Payer } from '../agreements/agreements.ts';
import { codeSendRules } from '../confirmations/code-send-limits.ts';
import { serviceBasics, type Offers, type PayserverCore } from '../feature.ts';
import type { Ledger } from '../ledger/ledger.ts';
import { PAYSERVER_COUNTED } from '../schema.ts';
import { adminPaymentRoutes } from './payments-admin-routes.ts';
import { PaymentsService } from './payments-service.ts';
import { RECEIPT_SMS_TOPIC, receiptSender } from '../settlement/receipts.ts';
import { NOTIFY_TOPIC, type Settlement } from '../settlement/settlement.ts';

/**
 * Payments: the back-end's payer attempts (pre-pay of a bound phone, or a checkout link), their expiry,
 * the payer's receipt, and the message that tells the back-end each outcome. A payment the back-end
 * refuses (its order had ended) goes back to the payer by `refundLate`.
 */
export function createPayments(
  core: Pick<PayserverCore, 'db' | 'gateway' | 'limiter' | 'random' | 'clock' | 'work' | 'config' | 'backend'>,
  deps: {
    ledger: Ledger;
    settlement: Settlement;
    budget: SmsBudget;
    payers: Payers<Payer>;
    railsOn: boolean;
    refundLate: (paymentId: string) => Promise<void>;
  },
) {
  const { db, config } = core;
  const { ledger, settlement, budget, payers } = deps;
  const service = new PaymentsService({
    ...serviceBasics(core, 'limiter'),
    ledger,
    settlement,
    budget,
    payers,
    options: {
      regions: config.phoneRegions,
      railsOn: deps.railsOn,
      codeTtlSeconds: config.codeTtlSeconds,
      ...codeSendRules(config.limits),
      smsFrom: config.sms.payserverFrom,
    },
  });
  const receipts = receiptSender(db, core.gateway, core.clock, {
    locale: config.sms.locale,
    from: config.sms.payserverFrom,
  });
  return {
    service,
    admin: (scope) => adminPaymentRoutes(scope, db, config.phoneRegions),
    handlers: [
      handler(RECEIPT_SMS_TOPIC, receipts),
      handler(NOTIFY_TOPIC, async (event) => {
        const answer = await core.backend.post<PaymentEventAnswer>('/internal/v1/payment-events', event);
        crashPoint('payserver.after-notify');
        // A payment the back-end refused (its order had ended) goes back to the payer as an ordinary refund.
        if (answer.result === 'rejected' && event.type === 'payment.completed') await deps.refundLate(event.paymentId);
      }),
    ],
    sweep: () => service.expire(),
    gauges: [
      countedGauge(
        db,
        PAYSERVER_COUNTED.payments,
        'tvpay_payments',
        'Payments by outcome (status), source and method.',
      ),
    ],
  } satisfies Offers;
}

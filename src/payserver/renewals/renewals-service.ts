import type { RenewalRequest, StartPaymentResult } from '../../contracts/provider-api.ts';
import type { Clock } from '../../lib/clock.ts';
import { crashPoint } from '../../lib/crash-points.ts';
import type { UnitOfWork } from '../../lib/db/unit-of-work.ts';
import { isUniqueViolation } from '../../lib/db/unique-violation.ts';
import { sha256, type RandomSource } from '../../lib/ids.ts';
import { normalizePhone } from '../../lib/phone.ts';
import { checkoutStore } from '../settlement/checkout-store.ts';
import type { Ledger } from '../ledger/ledger.ts';
import { newPayment, paymentStore, type Payment } from '../settlement/payment-store.ts';
import { tellBackend, type Settlement } from '../settlement/settlement.ts';
import type { PayserverDb, PayserverTables } from '../schema.ts';
import type { Payers } from '../accounts/accounts-service.ts';
import type { Payer } from '../agreements/agreements.ts';
import { holdForPayment } from '../payments/payments-service.ts';
import type { RailPayments } from '../rail-payments/rail-payments.ts';

export interface RenewalsOptions {
  regions: readonly string[];
}

/** What RenewalsService is built from. */
export interface RenewalsServiceDeps {
  db: PayserverDb;
  ledger: Ledger;
  settlement: Settlement;
  random: RandomSource;
  clock: Clock;
  options: RenewalsOptions;
  /** Its transactions, which wake the outbox workers once they have committed. */
  work: UnitOfWork<PayserverTables>;
  /** Who pays for the phone now (the newest of its agreements). */
  payers: Payers<Payer>;
  /** Charges a renewal under a rail's agreement (asked of the rail after the commit). */
  railCharges: Pick<RailPayments, 'openAgreementCharge'>;
}

/**
 * Charges renewals under the payer's quick-pay agreement (no code: the payer
 * consented when buying and was told before this renewal): the wallet, else
 * the card, held and captured in one transaction, with the receipt SMS and
 * the message that tells the back-end; or, when the phone's newest agreement
 * is at a rail, a charge under it that the rail settles (by answer,
 * notification or query) and that reaches the back-end as the same message. Once per renewal order, however often
 * the back-end asks (the order's one `renewal` payment is unique).
 */
export class RenewalsService {
  constructor(private readonly deps: RenewalsServiceDeps) {}

  async charge(req: RenewalRequest): Promise<StartPaymentResult> {
    const prior = await this.prior(req.orderId);
    if (prior) return prior;
    try {
      const result = await this.deps.work.run((trx) => this.chargeIn(trx, req));
      if (result.state === 'paid') crashPoint('payserver.after-renewal-charge');
      return result;
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      return (await this.prior(req.orderId)) ?? Promise.reject(err);
    }
  }

  private async prior(orderId: string): Promise<StartPaymentResult | null> {
    const p = await paymentStore.smsPaymentOf(this.deps.db, orderId, 1, 'renewal');
    if (!p) return null;
    if (p.status === 'pending') return { state: 'pending_confirmation', failureCode: null };
    return {
      state: p.status === 'captured' || p.status === 'refunded' ? 'paid' : 'failed',
      failureCode: p.failure_code,
    };
  }

  private async chargeIn(trx: PayserverDb, req: RenewalRequest): Promise<StartPaymentResult> {
    const now = this.deps.clock.now();
    const phone = normalizePhone(req.phone, this.deps.options.regions);
    // A renewal has no link anyone is given: its token is drawn and forgotten.
    await checkoutStore.ensure(trx, { ...req, linkTokenHash: sha256(this.deps.random.token()), phone, now });
    if (!(await checkoutStore.take(trx, req.orderId, phone, 1))) return { state: 'closed', failureCode: null };
    const paymentId = this.deps.random.id('pay');
    const base = newPayment({
      id: paymentId,
      order_id: req.orderId,
      attempt: 1,
      method: 'renewal',
      phone,
      amount_minor: req.amountMinor,
      currency: req.currency,
      status: 'pending',
      created_at: now.toISOString(),
    });
    const fail = async (failureCode: string): Promise<StartPaymentResult> => {
      await paymentStore.insert(trx, {
        ...base,
        status: 'failed',
        failure_code: failureCode,
        completed_at: now.toISOString(),
      });
      await tellBackend(trx, this.deps.random, now, {
        type: 'payment.failed',
        orderId: req.orderId,
        attempt: 1,
        paymentId,
        amountMinor: req.amountMinor,
        currency: req.currency,
        failureCode,
      });
      return { state: 'failed', failureCode };
    };
    const { payer } = await this.deps.payers.payerOf(trx, phone);
    if (!payer) return fail('NOT_BOUND');
    if ((payer.kind === 'wallet' ? payer.account.currency : 'CNY') !== req.currency) return fail('CURRENCY_MISMATCH');
    if (payer.kind === 'rail') {
      // Charged under the rail's agreement once this commits; its outcome reaches the back-end as a message.
      const payment: Payment = {
        ...base,
        source: payer.rail,
        external_agreement_no: payer.agreement.external_agreement_no,
      };
      await paymentStore.insert(trx, payment);
      await this.deps.railCharges.openAgreementCharge(trx, payment, req.expiresAt);
      return { state: 'pending_confirmation', failureCode: null };
    }
    const funding = await holdForPayment(trx, this.deps.ledger, payer.account.id, req.amountMinor, paymentId);
    if (!funding) return fail('INSUFFICIENT_FUNDS');
    const payment: Payment = { ...base, ...funding };
    await paymentStore.insert(trx, payment);
    // The capture queues the receipt, which says it renewed.
    if (!(await this.deps.settlement.capture(trx, payment))) return { state: 'closed', failureCode: null };
    return { state: 'paid', failureCode: null };
  }
}

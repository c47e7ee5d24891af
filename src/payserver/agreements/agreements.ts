import type { Clock } from '../../lib/clock.ts';
import type { UnitOfWork } from '../../lib/db/unit-of-work.ts';
import { isUniqueViolation } from '../../lib/db/unique-violation.ts';
import { DomainError, notFound } from '../../lib/errors.ts';
import { sha256, type RandomSource } from '../../lib/ids.ts';
import { quickPayOnSms, type Locale } from '../../sms/templates.ts';
import { queueText } from '../outbox.ts';
import type { AccountRow } from '../accounts/account-store.ts';
import type { Payers } from '../accounts/accounts-service.ts';
import { checkoutStore } from '../settlement/checkout-store.ts';
import { paymentStore } from '../settlement/payment-store.ts';
import type { RailEvent, RailName } from '../rails/rail.ts';
import type { RailRegistry } from '../rails/registry.ts';
import type { PayserverDb, PayserverTables } from '../schema.ts';
import { agreementStore, type RailAgreement } from './agreement-store.ts';

/** Who pays for a bound phone: the wallet's quick pay, or an agreement at a rail. */
export type Payer =
  { kind: 'wallet'; account: AccountRow } | { kind: 'rail'; rail: RailName; agreement: RailAgreement };

export type AgreementEvent = Extract<RailEvent, { type: `agreement.${string}` }>;

/** What Agreements is built from. */
export interface AgreementsDeps {
  db: PayserverDb;
  rails: Pick<RailRegistry, 'get'>;
  random: RandomSource;
  clock: Clock;
  /** Its transactions, which wake the outbox workers once they have committed. */
  work: UnitOfWork<PayserverTables>;
  options: { smsFrom: string; locale: Locale };
}

/** An agreement as operators and the admin API see it (no secret is part of one). */
export interface AgreementView {
  externalAgreementNo: string;
  rail: RailName;
  phone: string;
  status: RailAgreement['status'];
  agreementNo: string | null;
  createdAt: string;
  signedAt: string | null;
  endedAt: string | null;
  endedBy: string | null;
}

/**
 * Quick-pay agreements at the money rails (API "Real money rails", DESIGN "Agreements belong to the
 * phone"). One is asked for while paying on the checkout page after the possession code, counts from the
 * rail's verified notification, and ends by the rail's notification or an operator. A phone is bound when
 * it has any active agreement, the wallet's included; the one agreed to last pays.
 */
export class Agreements implements Payers<Payer> {
  constructor(private readonly deps: AgreementsDeps) {}

  /** tvpay's number for a new agreement: 30 letters and digits, within both rails' rules (1–32). */
  newExternalNo(): string {
    return `qa${sha256(this.deps.random.token()).slice(0, 28)}`;
  }

  /**
   * Who pays for the phone (`payer`, null: not bound): of the wallet's quick pay and the phone's active
   * agreements at rails that are on, the one agreed to last; with the phone's wallet account (`account`), if
   * it has one. Both read in one statement.
   */
  async payerOf(db: PayserverDb, phone: string): Promise<{ account: AccountRow | undefined; payer: Payer | null }> {
    const { account, agreements } = await agreementStore.payersOfPhone(db, phone);
    const wallet = account?.quick_pay === 1 ? account : undefined;
    const walletAt = wallet ? (wallet.quick_pay_at ?? wallet.created_at) : '';
    for (const agreement of agreements) {
      if (!this.deps.rails.get(agreement.rail)?.agreements) continue;
      if (!wallet || (agreement.signed_at ?? '') > walletAt)
        return { account, payer: { kind: 'rail', rail: agreement.rail, agreement } };
      break;
    }
    return { account, payer: wallet ? { kind: 'wallet', account: wallet } : null };
  }

  /** The agreement a payment is charged under, if it is still active. */
  async activeByExternalNo(db: PayserverDb, externalNo: string): Promise<RailAgreement | undefined> {
    const agreement = await agreementStore.byExternalNo(db, externalNo);
    return agreement?.status === 'active' ? agreement : undefined;
  }

  /** Records that a page payment's trade also asks the rail to sign an agreement for the phone. */
  async signing(trx: PayserverDb, a: { externalNo: string; rail: RailName; phone: string; paymentId: string }) {
    await agreementStore.insert(trx, {
      external_agreement_no: a.externalNo,
      rail: a.rail,
      phone: a.phone,
      status: 'signing',
      agreement_no: null,
      payment_id: a.paymentId,
      created_at: this.deps.clock.now().toISOString(),
      signed_at: null,
      ended_at: null,
      ended_by: null,
    });
  }

  /** A verified agreement notification of a rail: matched by tvpay's number and applied once. */
  async onEvent(rail: RailName, event: AgreementEvent): Promise<'applied' | 'duplicate' | 'unmatched'> {
    const known = await agreementStore.byExternalNo(this.deps.db, event.externalAgreementNo);
    if (!known || known.rail !== rail) return 'unmatched';
    if (known.agreement_no && known.agreement_no !== event.agreementNo) return 'unmatched';
    const at = this.deps.clock.now().toISOString();
    if (event.type === 'agreement.ended') {
      const ended = await this.deps.work.run((trx) =>
        agreementStore.end(trx, known.external_agreement_no, { at, by: 'rail' }),
      );
      return ended ? 'applied' : 'duplicate';
    }
    // A late "signed" for an agreement that already ended does not bring it back.
    if (known.status !== 'signing')
      return known.status === 'active' || known.status === 'ended' ? 'duplicate' : 'unmatched';
    try {
      const signed = await this.deps.work.run(async (trx) => {
        if (
          !(await agreementStore.activate(trx, known.external_agreement_no, rail, {
            agreementNo: event.agreementNo,
            at,
          }))
        )
          return false;
        await this.tellSigned(trx, known);
        return true;
      });
      return signed ? 'applied' : 'duplicate';
    } catch (err) {
      // The rail's number is already another agreement's: not ours to apply.
      if (isUniqueViolation(err)) return 'unmatched';
      throw err;
    }
  }

  /** The phone is told quick pay is on, and which rail will pay. */
  private async tellSigned(trx: PayserverDb, agreement: RailAgreement): Promise<void> {
    const payment = agreement.payment_id ? await paymentStore.byId(trx, agreement.payment_id) : undefined;
    const labels = payment ? await checkoutStore.labelsOf(trx, payment.order_id) : undefined;
    if (!labels) return;
    await queueText(trx, this.deps.random, {
      kind: 'quick-pay-on',
      to: agreement.phone,
      from: this.deps.options.smsFrom,
      text: quickPayOnSms(this.deps.options.locale, { payee: labels.payee, rail: agreement.rail }),
      now: this.deps.clock.now(),
      ref: agreement.external_agreement_no,
    });
  }

  /**
   * An operator ends an agreement: unsigned at its rail first (`alipay.user.agreement.unsign`, papay
   * terminate), then ended here. A rail that does not answer changes nothing: 409 RAIL_UNAVAILABLE, try again.
   * Ending one already ended answers it as it is.
   */
  async end(externalNo: string): Promise<AgreementView> {
    const agreement = await agreementStore.byExternalNo(this.deps.db, externalNo);
    if (!agreement) throw notFound('AGREEMENT_NOT_FOUND', 'The agreement');
    if (agreement.status === 'active' && agreement.agreement_no) {
      const rail = this.deps.rails.get(agreement.rail);
      const outcome = rail
        ? await rail.unsign({ externalAgreementNo: externalNo, agreementNo: agreement.agreement_no })
        : { state: 'unknown' as const };
      if (outcome.state !== 'ended')
        throw new DomainError('RAIL_UNAVAILABLE', `${agreement.rail} did not confirm the unsigning; try again.`);
    }
    const at = this.deps.clock.now().toISOString();
    await this.deps.work.run((trx) => agreementStore.end(trx, externalNo, { at, by: 'operator' }));
    return this.view(externalNo);
  }

  async list(filter: { phone?: string; limit: number }): Promise<AgreementView[]> {
    return (await agreementStore.list(this.deps.db, filter)).map(viewOf);
  }

  async view(externalNo: string): Promise<AgreementView> {
    const agreement = await agreementStore.byExternalNo(this.deps.db, externalNo);
    if (!agreement) throw notFound('AGREEMENT_NOT_FOUND', 'The agreement');
    return viewOf(agreement);
  }
}

function viewOf(a: RailAgreement): AgreementView {
  return {
    externalAgreementNo: a.external_agreement_no,
    rail: a.rail,
    phone: a.phone,
    status: a.status,
    agreementNo: a.agreement_no,
    createdAt: a.created_at,
    signedAt: a.signed_at,
    endedAt: a.ended_at,
    endedBy: a.ended_by,
  };
}

import { moveRow, rowsWhere, tableRows } from '../../lib/db/rows.ts';
import type { PayserverDb, PayserverTables, RailAgreementStatus } from '../schema.ts';
import type { RailName } from '../rails/rail.ts';

export type RailAgreement = PayserverTables['rail_agreements'];

/** For each status of an agreement, the statuses it may be reached from: it only moves forward. */
export const AGREEMENT_PREDECESSORS: Readonly<Record<RailAgreementStatus, readonly RailAgreementStatus[]>> = {
  signing: [],
  active: ['signing'],
  ended: ['signing', 'active'],
};

const agreements = tableRows('rail_agreements', 'external_agreement_no');

/** The only place `rail_agreements` is written: each move is a conditional UPDATE from an allowed status. */
export const agreementStore = {
  insert: agreements.insert,
  byExternalNo: agreements.byKey,
  /** The agreement a page payment's trade was to sign, if it was to sign one. */
  ofPayment: agreements.oneBy('payment_id'),

  /** A phone's active agreements at the rails, the one signed last first. */
  async activeOfPhone(db: PayserverDb, phone: string): Promise<RailAgreement[]> {
    const newestFirst = ['signed_at', 'external_agreement_no'] as const;
    return rowsWhere(db, 'rail_agreements', { phone, status: 'active' }, newestFirst, 'desc');
  },

  /** Agreements for operators: a phone's, or the newest of all, newest first. */
  async list(db: PayserverDb, filter: { phone?: string; limit: number }): Promise<RailAgreement[]> {
    let q = db.selectFrom('rail_agreements').selectAll();
    if (filter.phone) q = q.where('phone', '=', filter.phone);
    return q.orderBy('created_at', 'desc').orderBy('external_agreement_no', 'desc').limit(filter.limit).execute();
  },

  /** `signing → active` with the rail's number for it; whether this call made the move. */
  async activate(
    trx: PayserverDb,
    externalNo: string,
    rail: RailName,
    signed: { agreementNo: string; at: string },
  ): Promise<boolean> {
    const from = { external_agreement_no: externalNo, rail, status: AGREEMENT_PREDECESSORS.active };
    return moveRow(trx, 'rail_agreements', from, {
      status: 'active',
      agreement_no: signed.agreementNo,
      signed_at: signed.at,
    });
  },

  /** Ends an agreement that was signing or active; whether this call ended it. */
  async end(trx: PayserverDb, externalNo: string, ended: { at: string; by: 'rail' | 'operator' }): Promise<boolean> {
    const from = { external_agreement_no: externalNo, status: AGREEMENT_PREDECESSORS.ended };
    return moveRow(trx, 'rail_agreements', from, { status: 'ended', ended_at: ended.at, ended_by: ended.by });
  },
};

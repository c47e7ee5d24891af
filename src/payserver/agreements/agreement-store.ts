import { sql } from 'kysely';
import { preparedQuery } from '../../lib/db/prepared-query.ts';
import { moveRow, tableRows } from '../../lib/db/rows.ts';
import type { AccountRow } from '../accounts/account-store.ts';
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

/** payersOfPhone's read, built and compiled once (preparedQuery): every pre-pay and binding lookup runs it. */
const payersOf = preparedQuery((db: PayserverDb, phone: string) =>
  db
    .selectFrom(sql<{ phone: string }>`(select cast(${phone} as varchar(32)) as "phone")`.as('p'))
    .leftJoin('accounts as a', 'a.phone', 'p.phone')
    .leftJoin('rail_agreements as r', (j) => j.onRef('r.phone', '=', 'p.phone').on('r.status', '=', 'active'))
    .select([
      'a.id as a_id',
      'a.currency as a_currency',
      'a.quick_pay as a_quick_pay',
      'a.created_at as a_created_at',
      'a.quick_pay_at as a_quick_pay_at',
      'r.external_agreement_no',
      'r.rail',
      'r.agreement_no',
      'r.payment_id',
      'r.created_at',
      'r.signed_at',
      'r.ended_at',
      'r.ended_by',
    ])
    .orderBy('r.signed_at', 'desc')
    .orderBy('r.external_agreement_no', 'desc'),
);

/** The only place `rail_agreements` is written: each move is a conditional UPDATE from an allowed status. */
export const agreementStore = {
  insert: agreements.insert,
  byExternalNo: agreements.byKey,
  /** The agreement a page payment's trade was to sign, if it was to sign one. */
  ofPayment: agreements.oneBy('payment_id'),

  /**
   * A phone's wallet account (if it has one) and its active agreements at the rails, the one signed last first,
   * in one statement (issue 30: every pre-pay and binding lookup read them in two): a row per agreement, or one
   * row with none, each with the account's columns (null without an account).
   */
  async payersOfPhone(
    db: PayserverDb,
    phone: string,
  ): Promise<{ account: AccountRow | undefined; agreements: RailAgreement[] }> {
    const { rows } = await payersOf(db, phone);
    const first = rows[0];
    const account: AccountRow | undefined =
      first?.a_id != null
        ? {
            id: first.a_id,
            phone,
            currency: first.a_currency!,
            quick_pay: first.a_quick_pay!,
            created_at: first.a_created_at!,
            quick_pay_at: first.a_quick_pay_at ?? null,
          }
        : undefined;
    const agreements = rows.flatMap((r): RailAgreement[] =>
      r.external_agreement_no == null
        ? []
        : [
            {
              external_agreement_no: r.external_agreement_no,
              rail: r.rail!,
              phone,
              status: 'active',
              agreement_no: r.agreement_no ?? null,
              payment_id: r.payment_id ?? null,
              created_at: r.created_at!,
              signed_at: r.signed_at ?? null,
              ended_at: r.ended_at ?? null,
              ended_by: r.ended_by ?? null,
            },
          ],
    );
    return { account, agreements };
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

import type { Kysely } from 'kysely';
import type { Clock } from '../../lib/clock.ts';
import { affected } from '../../lib/db/affected.ts';
import { DomainError } from '../../lib/errors.ts';
import type { RandomSource } from '../../lib/ids.ts';
import type { PayserverTables } from '../schema.ts';

type Db = Kysely<PayserverTables>;

/**
 * The double-entry ledger. Every movement of money is a journal entry whose
 * postings sum to zero; money enters only from the per-currency `external`
 * account (an admin credit) and captured payments go to the `merchant`
 * account. A hold reserves part of an account's balance; a capture posts it;
 * a release frees it. Every method runs inside the caller's transaction, so a
 * balance change always commits together with the state change it belongs
 * to, and every balance change is a conditional UPDATE, so two racing
 * transactions can never overdraw an account or resolve a hold twice.
 */
export class Ledger {
  constructor(
    private readonly random: RandomSource,
    private readonly clock: Clock,
  ) {}

  /** The system account of a kind for a currency, created on first use. */
  async systemAccount(trx: Db, kind: 'external' | 'merchant', currency: string): Promise<string> {
    const id = `la_${kind}_${currency}`;
    await trx
      .insertInto('ledger_accounts')
      .values({ id, account_id: null, kind, currency, balance_minor: 0, held_minor: 0, card_last4: null })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
    return id;
  }

  async openAccount(trx: Db, owner: { accountId: string; kind: 'wallet' | 'card'; currency: string; cardLast4?: string }): Promise<string> {
    const id = this.random.id('la');
    await trx
      .insertInto('ledger_accounts')
      .values({ id, account_id: owner.accountId, kind: owner.kind, currency: owner.currency, balance_minor: 0, held_minor: 0, card_last4: owner.cardLast4 ?? null })
      .execute();
    return id;
  }

  /** Moves money in from outside (an admin credit): external → account. */
  async credit(trx: Db, ledgerAccountId: string, amountMinor: number, ref: string): Promise<void> {
    assertPositive(amountMinor);
    const account = await this.account(trx, ledgerAccountId);
    const external = await this.systemAccount(trx, 'external', account.currency);
    await this.post(trx, 'credit', ref, [
      { id: external, amount: -amountMinor },
      { id: ledgerAccountId, amount: amountMinor },
    ]);
  }

  /**
   * Reserves `amountMinor` of the account's available balance (balance − held)
   * for a payment. Returns the hold id, or null when the available balance
   * does not cover the amount (nothing is changed then).
   */
  async reserve(trx: Db, ledgerAccountId: string, amountMinor: number, paymentId: string): Promise<string | null> {
    assertPositive(amountMinor);
    const res = await trx
      .updateTable('ledger_accounts')
      .set((eb) => ({ held_minor: eb('held_minor', '+', amountMinor) }))
      .where('id', '=', ledgerAccountId)
      .where('kind', 'in', ['wallet', 'card'])
      .where((eb) => eb(eb('balance_minor', '-', eb.ref('held_minor')), '>=', amountMinor))
      .executeTakeFirst();
    if (affected(res) !== 1) return null;
    const id = this.random.id('hold');
    await trx
      .insertInto('holds')
      .values({ id, ledger_account_id: ledgerAccountId, payment_id: paymentId, amount_minor: amountMinor, status: 'held', created_at: this.now(), resolved_at: null })
      .execute();
    return id;
  }

  /** Posts a held amount to the merchant. False when the hold was already captured or released. */
  async capture(trx: Db, holdId: string): Promise<boolean> {
    const hold = await this.resolve(trx, holdId, 'captured');
    if (!hold) return false;
    const account = await this.account(trx, hold.ledger_account_id);
    const merchant = await this.systemAccount(trx, 'merchant', account.currency);
    const amount = Number(hold.amount_minor);
    await this.post(trx, 'capture', hold.payment_id, [
      { id: hold.ledger_account_id, amount: -amount, held: -amount },
      { id: merchant, amount },
    ]);
    return true;
  }

  /** Frees a held amount. False when the hold was already captured or released. */
  async release(trx: Db, holdId: string): Promise<boolean> {
    const hold = await this.resolve(trx, holdId, 'released');
    if (!hold) return false;
    const res = await trx
      .updateTable('ledger_accounts')
      .set((eb) => ({ held_minor: eb('held_minor', '-', hold.amount_minor) }))
      .where('id', '=', hold.ledger_account_id)
      .where('held_minor', '>=', hold.amount_minor)
      .executeTakeFirst();
    if (affected(res) !== 1) throw new Error(`ledger invariant broken: hold ${holdId} exceeds held balance`);
    return true;
  }

  /** Gives a captured amount back: merchant → the account the hold was on. */
  async refund(trx: Db, holdId: string, ref: string): Promise<void> {
    const hold = await trx.selectFrom('holds').selectAll().where('id', '=', holdId).executeTakeFirstOrThrow();
    if (hold.status !== 'captured') throw new Error(`cannot refund hold ${holdId} in status ${hold.status}`);
    const account = await this.account(trx, hold.ledger_account_id);
    const merchant = await this.systemAccount(trx, 'merchant', account.currency);
    await this.post(trx, 'refund', ref, [
      { id: merchant, amount: -Number(hold.amount_minor) },
      { id: hold.ledger_account_id, amount: Number(hold.amount_minor) },
    ]);
  }

  private async resolve(trx: Db, holdId: string, to: 'captured' | 'released') {
    const res = await trx
      .updateTable('holds')
      .set({ status: to, resolved_at: this.now() })
      .where('id', '=', holdId)
      .where('status', '=', 'held')
      .executeTakeFirst();
    if (affected(res) !== 1) return null;
    return trx.selectFrom('holds').selectAll().where('id', '=', holdId).executeTakeFirstOrThrow();
  }

  private async account(trx: Db, id: string) {
    const account = await trx.selectFrom('ledger_accounts').selectAll().where('id', '=', id).executeTakeFirst();
    if (!account) throw new DomainError('LEDGER_ACCOUNT_NOT_FOUND', 404, `Ledger account ${id} does not exist.`);
    return account;
  }

  /**
   * Writes one journal entry. The postings must sum to zero. Balances (and,
   * for a capture, the held amount) change with conditional updates that
   * refuse to take any non-external account below zero or below what it
   * holds, and always in the order of the accounts' ids, so two transactions
   * moving money between the same accounts never wait on each other in a
   * circle (no deadlock between a capture and a refund).
   */
  private async post(trx: Db, kind: string, ref: string, postings: Array<{ id: string; amount: number; held?: number }>) {
    const sum = postings.reduce((s, p) => s + p.amount, 0);
    if (sum !== 0) throw new Error(`journal entry ${kind} ${ref} does not balance: ${sum}`);
    for (const p of [...postings].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
      const held = p.held ?? 0;
      const res = await trx
        .updateTable('ledger_accounts')
        .set((eb) => ({ balance_minor: eb('balance_minor', '+', p.amount), held_minor: eb('held_minor', '+', held) }))
        .where('id', '=', p.id)
        .where((eb) =>
          eb.or([
            eb('kind', '=', 'external'),
            eb.and([eb(eb('balance_minor', '+', p.amount), '>=', eb(eb.ref('held_minor'), '+', held)), eb(eb.ref('held_minor'), '>=', -held)]),
          ]),
        )
        .executeTakeFirst();
      if (affected(res) !== 1) throw new DomainError('INSUFFICIENT_FUNDS', 409, 'The account does not have enough money for this movement.');
    }
    const entryId = this.random.id('je');
    await trx.insertInto('journal_entries').values({ id: entryId, kind, ref, created_at: this.now() }).execute();
    for (const p of postings) {
      await trx.insertInto('postings').values({ id: this.random.id('pst'), entry_id: entryId, ledger_account_id: p.id, amount_minor: p.amount }).execute();
    }
  }

  private now(): string {
    return this.clock.now().toISOString();
  }
}

function assertPositive(amountMinor: number): void {
  if (!Number.isSafeInteger(amountMinor) || amountMinor <= 0) {
    throw new DomainError('AMOUNT_INVALID', 400, 'An amount must be a positive whole number of minor units.');
  }
}

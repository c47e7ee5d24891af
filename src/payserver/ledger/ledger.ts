import type { Kysely, QueryCreator } from 'kysely';
import type { Clock } from '../../lib/clock.ts';
import { affected } from '../../lib/db/affected.ts';
import { onPostgres } from '../../lib/db/dialect-of.ts';
import { transactionOf } from '../../lib/db/in-transaction.ts';
import { preparedQuery } from '../../lib/db/prepared-query.ts';
import { DomainError } from '../../lib/errors.ts';
import type { RandomSource } from '../../lib/ids.ts';
import type { PayserverTables } from '../schema.ts';

type Db = Kysely<PayserverTables>;

// The statements of every hold, capture and release, built and compiled once per store (building
// a Kysely query cost more CPU than SQLite spent running it: BENCHMARKS.md).
const ensureSystemAccount = preparedQuery((db: Db, id: string, kind: 'external' | 'merchant', currency: string) =>
  db
    .insertInto('ledger_accounts')
    .values({ id, account_id: null, kind, currency, balance_minor: 0, held_minor: 0, card_last4: null })
    .onConflict((oc) => oc.column('id').doNothing()),
);
/** Holds `amount` more of a payer's account, only while its available balance (balance − held) covers it. */
const holdAmountOf = (db: QueryCreator<PayserverTables>, amount: number, id: string) =>
  db
    .updateTable('ledger_accounts')
    .set((eb) => ({ held_minor: eb('held_minor', '+', amount) }))
    .where('id', '=', id)
    .where('kind', 'in', ['wallet', 'card'])
    .where((eb) => eb(eb('balance_minor', '-', eb.ref('held_minor')), '>=', amount));
const holdAmount = preparedQuery((db: Db, amount: number, id: string) => holdAmountOf(db, amount, id));
/**
 * On PostgreSQL, a hold in one statement (issue 30): the balance's conditional update in a data-modifying
 * WITH, and the hold's row inserted from what it returned, so the row exists exactly when the update
 * matched (none when the available balance does not cover the amount).
 */
const holdAndInsert = preparedQuery(
  (db: Db, amount: number, account: string, id: string, paymentId: string, createdAt: string) =>
    db
      .with('held', (qc) => holdAmountOf(qc, amount, account).returning('id'))
      .insertInto('holds')
      .columns([
        'id',
        'ledger_account_id',
        'payment_id',
        'amount_minor',
        'refunded_minor',
        'status',
        'created_at',
        'resolved_at',
      ])
      .expression((eb) =>
        eb
          .selectFrom('held')
          .select((s) => [
            s.val(id).as('id'),
            'held.id',
            s.val(paymentId).as('payment_id'),
            s.val(amount).as('amount_minor'),
            s.val(0).as('refunded_minor'),
            s.val('held').as('status'),
            s.val(createdAt).as('created_at'),
            s.val(null).as('resolved_at'),
          ]),
      ),
);
const insertHold = preparedQuery(
  (db: Db, id: string, account: string, paymentId: string, amount: number, createdAt: string) =>
    db.insertInto('holds').values({
      id,
      ledger_account_id: account,
      payment_id: paymentId,
      amount_minor: amount,
      refunded_minor: 0,
      status: 'held',
      created_at: createdAt,
      resolved_at: null,
    }),
);
/**
 * Resolves a held hold and returns it with its account's currency: the move and the reads a capture needs
 * after it in one statement (issue 30); no row when the hold was not held.
 */
const resolveHold = preparedQuery((db: Db, to: 'captured' | 'released', at: string, id: string) =>
  db
    .updateTable('holds')
    .set({ status: to, resolved_at: at })
    .where('id', '=', id)
    .where('status', '=', 'held')
    .returningAll()
    .returning((eb) =>
      eb
        .selectFrom('ledger_accounts')
        .select('ledger_accounts.currency')
        .whereRef('ledger_accounts.id', '=', 'holds.ledger_account_id')
        .as('currency'),
    ),
);
/** Counts a refund against its captured hold, only while the hold's refunds stay within what it captured. */
const takeHoldRefund = preparedQuery((db: Db, amount: number, id: string, sameAmount: number) =>
  db
    .updateTable('holds')
    .set((eb) => ({ refunded_minor: eb('refunded_minor', '+', amount) }))
    .where('id', '=', id)
    .where('status', '=', 'captured')
    .where((eb) => eb(eb('refunded_minor', '+', sameAmount), '<=', eb.ref('amount_minor'))),
);
const holdById = preparedQuery((db: Db, id: string) => db.selectFrom('holds').selectAll().where('id', '=', id));
const accountById = preparedQuery((db: Db, id: string) =>
  db.selectFrom('ledger_accounts').selectAll().where('id', '=', id),
);
/** Balance (and held) change that refuses to take a non-external account below zero or below what it holds. */
const moveBalance = preparedQuery((db: Db, amount: number, held: number, id: string, heldRelease: number) =>
  db
    .updateTable('ledger_accounts')
    .set((eb) => ({ balance_minor: eb('balance_minor', '+', amount), held_minor: eb('held_minor', '+', held) }))
    .where('id', '=', id)
    .where((eb) =>
      eb.or([
        eb('kind', '=', 'external'),
        eb.and([
          eb(eb('balance_minor', '+', amount), '>=', eb(eb.ref('held_minor'), '+', held)),
          eb(eb.ref('held_minor'), '>=', heldRelease),
        ]),
      ]),
    ),
);
const insertEntry = preparedQuery((db: Db, id: string, kind: string, ref: string, createdAt: string) =>
  db.insertInto('journal_entries').values({ id, kind, ref, created_at: createdAt }),
);
const balanceOf = preparedQuery((db: Db, id: string) =>
  db.selectFrom('ledger_accounts').select('balance_minor').where('id', '=', id),
);
const insertPosting = preparedQuery((db: Db, id: string, entryId: string, account: string, amount: number) =>
  db.insertInto('postings').values({ id, entry_id: entryId, ledger_account_id: account, amount_minor: amount }),
);
/** An entry's two postings, as their statements take them: the entry, then each posting's id, account and amount. */
type TwoPostings = [
  entryId: string,
  id1: string,
  account1: string,
  amount1: number,
  id2: string,
  account2: string,
  amount2: number,
];
const twoPostingRows = (...[entryId, id1, account1, amount1, id2, account2, amount2]: TwoPostings) => [
  { id: id1, entry_id: entryId, ledger_account_id: account1, amount_minor: amount1 },
  { id: id2, entry_id: entryId, ledger_account_id: account2, amount_minor: amount2 },
];
/** The two postings of an entry that has two (every one the payments make), in one statement (issue 30). */
const insertTwoPostings = preparedQuery((db: Db, ...two: TwoPostings) =>
  db.insertInto('postings').values(twoPostingRows(...two)),
);

/**
 * On PostgreSQL, a journal entry and its two postings in one statement (issue 30): the entry's insert in a
 * data-modifying WITH. The postings' reference to the entry is checked at the end of the statement, when
 * the entry is there.
 */
const insertEntryWithTwoPostings = preparedQuery(
  (db: Db, kind: string, ref: string, createdAt: string, ...two: TwoPostings) =>
    db
      .with('entry', (qc) => qc.insertInto('journal_entries').values({ id: two[0], kind, ref, created_at: createdAt }))
      .insertInto('postings')
      .values(twoPostingRows(...two)),
);

/**
 * How many sub-accounts the merchant's account of a currency is split into. Every capture credits the
 * merchant, and on PostgreSQL two captures of the same row wait for each other's commit: with one row, the
 * two-instance bench's payment servers spent a third of their busy time waiting on it (BENCHMARKS.md,
 * "the merchant account's row"). Each payment's money goes to one of K rows, picked by its id.
 */
export const MERCHANT_SUB_ACCOUNTS = 16;

/**
 * The merchant sub-account of a payment: the same for every posting of that payment (its capture, and its
 * refunds), so each sub-account always holds what its payments may still refund. Sub-account 0 keeps the
 * id of the single account it was (`la_merchant_CNY`), so a store from before the split keeps its balance.
 */
export function merchantSubAccount(currency: string, paymentId: string): string {
  let h = 0x811c9dc5; // FNV-1a: cheap, and spreads ids that differ in one character
  for (let i = 0; i < paymentId.length; i++) h = Math.imul(h ^ paymentId.charCodeAt(i), 0x01000193);
  const k = (h >>> 0) % MERCHANT_SUB_ACCOUNTS;
  return k === 0 ? `la_merchant_${currency}` : `la_merchant_${currency}_${k}`;
}

/** The merchant's balance in a currency, for reports: the sum of its sub-accounts. */
export async function merchantBalance(db: Db, currency: string): Promise<number> {
  const row = await db
    .selectFrom('ledger_accounts')
    .select((eb) => eb.fn.sum<number | string | null>('balance_minor').as('total'))
    .where('kind', '=', 'merchant')
    .where('currency', '=', currency)
    .executeTakeFirst();
  return Number(row?.total ?? 0);
}

/**
 * The double-entry ledger. Every movement of money is a journal entry whose
 * postings sum to zero; money enters only from the per-currency `external`
 * account (an admin credit) and captured payments go to the `merchant`
 * account, split into sub-accounts (merchantSubAccount). A hold reserves
 * part of an account's balance; a capture posts it; a release frees it.
 * Every method runs inside the caller's transaction, so a
 * balance change always commits together with the state change it belongs
 * to, and every balance change is a conditional UPDATE, so two racing
 * transactions can never overdraw an account or resolve a hold twice.
 */
export class Ledger {
  /**
   * The system and merchant accounts known to exist, by store: each is created once and never deleted, so
   * once a transaction that saw it (created it, or found it) has committed, its insert-if-missing is skipped
   * (issue 30: one statement on every capture).
   */
  private readonly existing = new WeakMap<object, Set<string>>();

  constructor(
    private readonly random: RandomSource,
    private readonly clock: Clock,
  ) {}

  /** The system account of a kind for a currency, created on first use. */
  async systemAccount(trx: Db, kind: 'external' | 'merchant', currency: string): Promise<string> {
    const id = `la_${kind}_${currency}`;
    await this.ensure(trx, id, kind, currency);
    return id;
  }

  /** The merchant sub-account a payment's capture credits, created on first use. */
  private async merchantFor(trx: Db, currency: string, paymentId: string): Promise<string> {
    const id = merchantSubAccount(currency, paymentId);
    await this.ensure(trx, id, 'merchant', currency);
    return id;
  }

  /**
   * Creates a system account if it is missing, unless this store is known to have it. Known only after the
   * commit: an account created by a transaction that rolled back does not exist. Outside a unit of work
   * (no transaction this process runs) it always asks.
   */
  private async ensure(trx: Db, id: string, kind: 'external' | 'merchant', currency: string): Promise<void> {
    const tx = transactionOf(trx);
    if (tx && this.existing.get(tx.db)?.has(id)) return;
    await ensureSystemAccount(trx, id, kind, currency);
    tx?.onEnd((committed) => {
      if (!committed) return;
      const known = this.existing.get(tx.db) ?? new Set<string>();
      this.existing.set(tx.db, known.add(id));
    });
  }

  /**
   * The merchant sub-account a refund of `paymentId` debits: the payment's own, which holds its capture;
   * a payment captured before the split has its money in sub-account 0 instead (the single account then).
   */
  private async merchantToRefund(trx: Db, currency: string, paymentId: string, amount: number): Promise<string> {
    const own = await this.merchantFor(trx, currency, paymentId);
    const [row] = (await balanceOf(trx, own)).rows;
    return Number(row?.balance_minor ?? 0) >= amount ? own : this.systemAccount(trx, 'merchant', currency);
  }

  /**
   * The clearing account of a money rail in a currency (`la_alipay_CNY`, `la_wechatpay_CNY`): what the rail
   * holds for tvpay. It is of kind `external` because its balance goes below zero as the rail collects
   * payments (the money is owed by the rail, outside tvpay), and the audit's zero total still holds.
   */
  async clearingAccount(trx: Db, rail: string, currency: string): Promise<string> {
    const id = `la_${rail}_${currency}`;
    await ensureSystemAccount(trx, id, 'external', currency);
    return id;
  }

  /**
   * Books a payment the rail has taken: clearing → merchant, with no hold (the money is already taken at
   * the provider, so there is nothing of tvpay's to reserve first).
   */
  async railCapture(trx: Db, rail: string, currency: string, amountMinor: number, paymentId: string): Promise<void> {
    assertPositive(amountMinor);
    const clearing = await this.clearingAccount(trx, rail, currency);
    const merchant = await this.merchantFor(trx, currency, paymentId);
    await this.post(trx, 'rail_capture', paymentId, [
      { id: clearing, amount: -amountMinor, last: true },
      { id: merchant, amount: amountMinor, last: true },
    ]);
  }

  /** Books money the rail gave back to the payer: merchant → clearing, once the rail says it is refunded. */
  async railRefund(
    trx: Db,
    rail: string,
    currency: string,
    amountMinor: number,
    refund: { refundId: string; paymentId: string },
  ): Promise<void> {
    assertPositive(amountMinor);
    const refundId = refund.refundId;
    const clearing = await this.clearingAccount(trx, rail, currency);
    const merchant = await this.merchantToRefund(trx, currency, refund.paymentId, amountMinor);
    await this.post(trx, 'rail_refund', refundId, [
      { id: merchant, amount: -amountMinor },
      { id: clearing, amount: amountMinor },
    ]);
  }

  async openAccount(
    trx: Db,
    owner: { accountId: string; kind: 'wallet' | 'card'; currency: string; cardLast4?: string },
  ): Promise<string> {
    const id = this.random.id('la');
    await trx
      .insertInto('ledger_accounts')
      .values({
        id,
        account_id: owner.accountId,
        kind: owner.kind,
        currency: owner.currency,
        balance_minor: 0,
        held_minor: 0,
        card_last4: owner.cardLast4 ?? null,
      })
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
    if (onPostgres(trx)) {
      const id = this.random.id('hold');
      const res = await holdAndInsert(trx, amountMinor, ledgerAccountId, id, paymentId, this.now());
      return affected(res) === 1 ? id : null;
    }
    const res = await holdAmount(trx, amountMinor, ledgerAccountId);
    if (affected(res) !== 1) return null;
    const id = this.random.id('hold');
    await insertHold(trx, id, ledgerAccountId, paymentId, amountMinor, this.now());
    return id;
  }

  /** Posts a held amount to the merchant. False when the hold was already captured or released. */
  async capture(trx: Db, holdId: string): Promise<boolean> {
    const hold = await this.resolve(trx, holdId, 'captured');
    if (!hold) return false;
    if (hold.currency === null)
      throw new DomainError('LEDGER_ACCOUNT_NOT_FOUND', `Ledger account ${hold.ledger_account_id} does not exist.`);
    const merchant = await this.merchantFor(trx, hold.currency, hold.payment_id);
    const amount = Number(hold.amount_minor);
    await this.post(trx, 'capture', hold.payment_id, [
      { id: hold.ledger_account_id, amount: -amount, held: -amount },
      { id: merchant, amount, last: true },
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

  /**
   * Gives (part of) a captured amount back: merchant → the account the hold
   * was on (the wallet, or the card it was charged to). The ledger itself keeps
   * the refunds of a hold within what it captured (the callers check it too):
   * a refund of a hold that is not captured, or one that would take its refunds
   * past the capture, is a bug in the caller and is refused before anything is
   * written. The count is a conditional UPDATE, so two racing refunds cannot
   * both pass it.
   */
  async refund(trx: Db, holdId: string, ref: string, amountMinor?: number): Promise<void> {
    const [hold] = (await holdById(trx, holdId)).rows;
    if (!hold) throw new Error(`ledger invariant broken: refund ${ref} names hold ${holdId}, which does not exist`);
    if (hold.status !== 'captured') throw new Error(`cannot refund hold ${holdId} in status ${hold.status}`);
    const amount = amountMinor ?? Number(hold.amount_minor);
    assertPositive(amount);
    if (affected(await takeHoldRefund(trx, amount, holdId, amount)) !== 1) {
      throw new Error(
        `ledger invariant broken: refund ${ref} of ${amount} would take hold ${holdId} past what it captured ` +
          `(${hold.amount_minor}, of which ${hold.refunded_minor} was refunded already)`,
      );
    }
    const account = await this.account(trx, hold.ledger_account_id);
    const merchant = await this.merchantToRefund(trx, account.currency, hold.payment_id, amount);
    await this.post(trx, 'refund', ref, [
      { id: merchant, amount: -amount },
      { id: hold.ledger_account_id, amount },
    ]);
  }

  private async resolve(trx: Db, holdId: string, to: 'captured' | 'released') {
    const [hold] = (await resolveHold(trx, to, this.now(), holdId)).rows;
    return hold ?? null;
  }

  private async account(trx: Db, id: string) {
    const [account] = (await accountById(trx, id)).rows;
    if (!account) throw new DomainError('LEDGER_ACCOUNT_NOT_FOUND', `Ledger account ${id} does not exist.`);
    return account;
  }

  /**
   * Writes one journal entry. The postings must sum to zero: that is checked
   * before anything is written, and an entry that does not is a bug, refused
   * with an Error that names it. Balances (and, for a capture, the held amount)
   * change with conditional updates that refuse to take any non-external
   * account below zero or below what it holds, always the payers' accounts
   * first and the system's (merchant, clearing) last, each in the order of
   * their ids, so two transactions moving money between the same accounts
   * never wait on each other in a circle (no deadlock between a capture and a
   * refund).
   *
   * A capture's move of a system account (`last`) is written at the end of its unit of work, just before the
   * commit: every capture credits one of a few merchant rows, and on PostgreSQL the row stays locked until the
   * commit, so written here it was held through everything the capture's transaction did next, and renewal
   * day's captures queued behind each other on it (48 ms a wait on average at 3,000 due). If it is refused,
   * the whole unit rolls back. Protected only so a test can hand it a broken entry.
   */
  protected async post(trx: Db, kind: string, ref: string, postings: Posting[]): Promise<void> {
    const entryId = this.random.id('je');
    assertBalanced(`${entryId} (${kind} ${ref})`, postings);
    const tx = transactionOf(trx);
    for (const p of [...postings].sort(systemLast)) {
      if (p.last && tx) tx.lastly(() => this.move(trx, p));
      else await this.move(trx, p);
    }
    const [a, b] = postings;
    if (postings.length === 2 && a && b) {
      await this.insertTwo(trx, { id: entryId, kind, ref }, a, b);
      return;
    }
    await insertEntry(trx, entryId, kind, ref, this.now());
    for (const p of postings) await insertPosting(trx, this.random.id('pst'), entryId, p.id, p.amount);
  }

  /** An entry of two postings (every one the payments make): one statement on PostgreSQL, two on SQLite. */
  private async insertTwo(trx: Db, entry: { id: string; kind: string; ref: string }, a: Posting, b: Posting) {
    const now = this.now();
    const two: TwoPostings = [entry.id, this.random.id('pst'), a.id, a.amount, this.random.id('pst'), b.id, b.amount];
    if (onPostgres(trx)) {
      await insertEntryWithTwoPostings(trx, entry.kind, entry.ref, now, ...two);
      return;
    }
    await insertEntry(trx, entry.id, entry.kind, entry.ref, now);
    await insertTwoPostings(trx, ...two);
  }

  private async move(trx: Db, p: Posting): Promise<void> {
    const held = p.held ?? 0;
    const res = await moveBalance(trx, p.amount, held, p.id, -held);
    if (affected(res) !== 1)
      throw new DomainError('INSUFFICIENT_FUNDS', 'The account does not have enough money for this movement.');
  }

  private now(): string {
    return this.clock.now().toISOString();
  }
}

/**
 * The order postings lock their accounts in: the system's own (the merchant's sub-accounts, a rail's
 * clearing account, `la_<kind>_<currency>`, rows every payment shares) after the payers', each by id.
 */
function systemLast(a: Posting, b: Posting): number {
  const as = isSystem(a.id);
  if (as !== isSystem(b.id)) return as ? 1 : -1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** A payer's account id is `la_` and base 62; a system account's names its kind (`la_merchant_CNY_3`). */
const isSystem = (id: string) => id.indexOf('_', 3) !== -1;

/** One line of a journal entry: what it moves into (positive) or out of (negative) an account, and its hold. */
interface Posting {
  id: string;
  amount: number;
  held?: number;
  /** A move of a row every capture shares, written at the end of the unit of work (see `post`). */
  last?: boolean;
}

/**
 * The double-entry invariant, asserted before an entry is written: at least two postings, each a non-zero
 * whole number of minor units, summing to zero. A breach is a bug in the ledger, not bad input.
 */
function assertBalanced(entry: string, postings: Posting[]): void {
  if (postings.length < 2) throw new Error(`ledger invariant broken: journal entry ${entry} has fewer than 2 postings`);
  for (const p of postings) {
    if (!Number.isSafeInteger(p.amount) || p.amount === 0)
      throw new Error(`ledger invariant broken: journal entry ${entry} posts ${p.amount} to ${p.id}`);
  }
  const sum = postings.reduce((s, p) => s + p.amount, 0);
  if (sum !== 0) throw new Error(`ledger invariant broken: journal entry ${entry} does not balance: sums to ${sum}`);
}

function assertPositive(amountMinor: number): void {
  if (!Number.isSafeInteger(amountMinor) || amountMinor <= 0) {
    throw new DomainError('AMOUNT_INVALID', 'An amount must be a positive whole number of minor units.');
  }
}

import type { UnitOfWork } from '../../lib/db/unit-of-work.ts';
import type { Clock } from '../../lib/clock.ts';
import { conflict, notFound } from '../../lib/errors.ts';
import type { RandomSource } from '../../lib/ids.ts';
import { assertCurrency } from '../../lib/money.ts';
import { normalizePhone, type E164 } from '../../lib/phone.ts';
import { accountStore, type AccountRow } from './account-store.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { PayserverDb, PayserverTables } from '../schema.ts';

/**
 * Who pays for a phone: its payer `P`, or null when the phone is not bound (the agreements answer). Accounts
 * ask only whether anyone pays (`Payers`); payments and renewals ask who (`Payers<Payer>`). Declared here,
 * so that accounts, which the agreements build on, import nothing of them.
 */
export interface Payers<P = unknown> {
  payerOf(db: PayserverDb, phone: string): Promise<{ account: AccountRow | undefined; payer: P | null }>;
}

export interface AccountView {
  accountId: string;
  phone: string;
  currency: string;
  quickPay: boolean;
  wallet: { balanceMinor: number; heldMinor: number };
  card: { last4: string; balanceMinor: number; heldMinor: number } | null;
}

export interface NewAccount {
  phone: unknown;
  currency: string;
  walletMinor: number;
  card?: { last4: string; balanceMinor: number };
  quickPay?: boolean;
}

/** What AccountsService is built from. */
export interface AccountsServiceDeps {
  db: PayserverDb;
  /** Its transactions (which write nothing to the outbox). */
  work: UnitOfWork<PayserverTables>;
  ledger: Ledger;
  random: RandomSource;
  clock: Clock;
  regions: readonly string[];
  /** Who pays for a bound phone: binding is judged over all of a phone's agreements, the rails' included. */
  payers: Payers;
}

/**
 * Wallet accounts: one per phone, a wallet (the first preset payment account)
 * and optionally a linked bank card (the second), and whether the holder
 * agreed to SMS-confirmed quick pay (what makes the phone "bound").
 */
export class AccountsService {
  constructor(private readonly deps: AccountsServiceDeps) {}

  async create(input: NewAccount): Promise<AccountView> {
    const phone = normalizePhone(input.phone, this.deps.regions);
    assertCurrency(input.currency);
    const accountId = this.deps.random.id('acc');
    await this.deps.work.run(async (trx) => {
      if (await accountStore.byPhone(trx, phone))
        throw conflict('ACCOUNT_EXISTS', 'This phone already has an account; there is one account per phone.');
      const now = this.deps.clock.now().toISOString();
      await accountStore.insert(trx, {
        id: accountId,
        phone,
        currency: input.currency,
        quick_pay: input.quickPay ? 1 : 0,
        created_at: now,
        quick_pay_at: input.quickPay ? now : null,
      });
      const wallet = await this.deps.ledger.openAccount(trx, { accountId, kind: 'wallet', currency: input.currency });
      if (input.walletMinor > 0) await this.deps.ledger.credit(trx, wallet, input.walletMinor, accountId);
      if (input.card) {
        const card = await this.deps.ledger.openAccount(trx, {
          accountId,
          kind: 'card',
          currency: input.currency,
          cardLast4: input.card.last4,
        });
        if (input.card.balanceMinor > 0) await this.deps.ledger.credit(trx, card, input.card.balanceMinor, accountId);
      }
    });
    return this.get(accountId);
  }

  /** Adds money to the wallet or the card from outside (an admin credit). */
  async credit(accountId: string, target: 'wallet' | 'card', amountMinor: number): Promise<AccountView> {
    await this.deps.work.run(async (trx) => {
      const la = await accountStore.source(trx, accountId, target);
      if (!la)
        throw notFound(
          target === 'card' ? 'CARD_NOT_FOUND' : 'ACCOUNT_NOT_FOUND',
          target === 'card' ? 'A linked card for this account' : 'The account',
        );
      await this.deps.ledger.credit(trx, la.id, amountMinor, accountId);
    });
    return this.get(accountId);
  }

  async get(accountId: string): Promise<AccountView> {
    const account = await accountStore.byId(this.deps.db, accountId);
    if (!account) throw notFound('ACCOUNT_NOT_FOUND', 'The account');
    const ledgers = await accountStore.sources(this.deps.db, accountId);
    const wallet = ledgers.find((l) => l.kind === 'wallet');
    const card = ledgers.find((l) => l.kind === 'card');
    return {
      accountId: account.id,
      phone: account.phone,
      currency: account.currency,
      quickPay: account.quick_pay === 1,
      wallet: { balanceMinor: Number(wallet?.balance_minor ?? 0), heldMinor: Number(wallet?.held_minor ?? 0) },
      card: card
        ? { last4: card.card_last4 ?? '', balanceMinor: Number(card.balance_minor), heldMinor: Number(card.held_minor) }
        : null,
    };
  }

  /** The account of a phone as typed (0 or 1 of them), for operators. */
  async findViewsByPhone(phoneInput: string): Promise<AccountView[]> {
    const account = await this.findByPhone(normalizePhone(phoneInput, this.deps.regions));
    return account ? [await this.get(account.id)] : [];
  }

  async findByPhone(phone: E164) {
    return accountStore.byPhone(this.deps.db, phone);
  }

  /**
   * Whether the phone has an active quick-pay agreement (claim 1's "bound"): the wallet's, or one at a rail that is on.
   */
  async isBound(phone: E164): Promise<boolean> {
    return (await this.deps.payers.payerOf(this.deps.db, phone)).payer !== null;
  }
}

import { correlation } from '../../lib/correlation.ts';
import { inTurn, preparedQueries, preparedQuery } from '../../lib/db/prepared-query.ts';
import { columnsOf, compared, moveRow, rowWhere, tableRows } from '../../lib/db/rows.ts';
import type { PayserverDb, PayserverTables } from '../schema.ts';

export type Checkout = PayserverTables['checkouts'];
export type PageSession = PayserverTables['page_sessions'];

const sessions = tableRows('page_sessions', 'id');

/** What a start (a payer's, or a renewal's) says of the order its checkout is for. */
export interface CheckoutStart {
  orderId: string;
  linkTokenHash: string;
  phone: string;
  amountMinor: number;
  currency: string;
  productTitle: string;
  payee: string;
  deviceId: string;
  expiresAt: string;
  renewsEveryDays?: number | null;
  now: Date;
}

/** ISO 4217's code for "no currency": a never-started checkout has no amount to be in. */
const NO_CURRENCY = 'XXX';

/**
 * ensure's insert, built and compiled once for a start with a payer and once for one without (a scan's, whose
 * row a payer's start completes).
 */
const ensures = preparedQueries(4);
const ensureRow = (trx: PayserverDb, row: Checkout) => {
  const columns = columnsOf(row);
  const withPayer = Boolean(row.phone);
  const build = (db: PayserverDb, ...p: unknown[]) => {
    const r = columns.columns(inTurn(p)) as Checkout;
    return db
      .insertInto('checkouts')
      .values(r)
      .onConflict((oc) =>
        withPayer
          ? oc
              .column('order_id')
              .doUpdateSet({ link_token_hash: r.link_token_hash, phone: r.phone })
              .where('checkouts.phone', '=', '')
              .where('checkouts.status', '=', 'open')
          : oc.column('order_id').doNothing(),
      );
  };
  return ensures(trx, `ensure (${columns.key}) ${withPayer}`, build, ...columns.values);
};

/** markPaid's UPDATE: every payment that settles runs it. Built and compiled once (preparedQuery). */
const markCheckoutPaid = preparedQuery((db: PayserverDb, orderId: string, paymentId: string, now: string) =>
  db
    .updateTable('checkouts')
    .set({ status: 'paid', paid_payment_id: paymentId })
    .where('order_id', '=', orderId)
    .where('status', '=', 'open')
    .where('expires_at', '>', now)
    .returning('correlation_id'),
);

/**
 * The only place the `checkouts` and `page_sessions` tables are written: an
 * order's checkout at the payment server (its lock: one payment per order)
 * and the sessions of its phone page.
 */
export const checkoutStore = {
  /** A checkout behind a link; a never-started one has no link anyone was given. */
  async byLinkTokenHash(db: PayserverDb, hash: string): Promise<Checkout | undefined> {
    return rowWhere(db, 'checkouts', { link_token_hash: hash, status: compared('!=', 'never_started') });
  },

  async byOrder(db: PayserverDb, orderId: string): Promise<Checkout | undefined> {
    return rowWhere(db, 'checkouts', { order_id: orderId });
  },

  async statusOf(trx: PayserverDb, orderId: string): Promise<Checkout['status'] | undefined> {
    return (await trx.selectFrom('checkouts').select('status').where('order_id', '=', orderId).executeTakeFirst())
      ?.status;
  },

  /** The correlation id of the TV checkout that started the order here, if it sent one. */
  async correlationOf(db: PayserverDb, orderId: string): Promise<string | null> {
    return (
      (await db.selectFrom('checkouts').select('correlation_id').where('order_id', '=', orderId).executeTakeFirst())
        ?.correlation_id ?? null
    );
  },

  /** What an SMS about the order names: the product and the payee. */
  async labelsOf(db: PayserverDb, orderId: string) {
    return db
      .selectFrom('checkouts')
      .select(['product_title', 'payee', 'renews_days'])
      .where('order_id', '=', orderId)
      .executeTakeFirst();
  },

  /**
   * Creates the order's open checkout if it has none yet (a start's first step), under the
   * correlation id in force (the TV checkout's, which came with the start).
   */
  async ensure(trx: PayserverDb, start: CheckoutStart): Promise<void> {
    const row: Checkout = {
      order_id: start.orderId,
      link_token_hash: start.linkTokenHash,
      phone: start.phone,
      amount_minor: start.amountMinor,
      currency: start.currency,
      product_title: start.productTitle,
      payee: start.payee,
      device_id: start.deviceId,
      expires_at: start.expiresAt,
      created_at: start.now.toISOString(),
      renews_days: start.renewsEveryDays ?? null,
      attempt: 0,
      status: 'open',
      paid_payment_id: null,
      correlation_id: correlation.current() ?? null,
    };
    // A row a scan made first has no payer yet (phone ''): the payer's start gives it its link and phone.
    await ensureRow(trx, row);
  },

  /**
   * Takes the order's lock for an attempt: only a start for the current or a
   * newer attempt of an open checkout wins (a conditional UPDATE).
   */
  async take(trx: PayserverDb, orderId: string, phone: string, attempt: number): Promise<boolean> {
    const open = { order_id: orderId, status: 'open', attempt: compared('<=', attempt) } as const;
    return moveRow(trx, 'checkouts', open, { phone, attempt });
  },

  /**
   * Raises an open checkout's attempt to `attempt` without a payer of it (the viewer changed the number):
   * a start of an older attempt then finds itself superseded. Whether the checkout is open.
   */
  async raiseAttempt(trx: PayserverDb, orderId: string, attempt: number): Promise<boolean> {
    return moveRow(
      trx,
      'checkouts',
      { order_id: orderId, status: 'open', attempt: compared('<=', attempt) },
      { attempt },
    );
  },

  /**
   * open → paid by this payment, while the order has not expired. Whether this call won, with the
   * checkout's correlation id (what the capture queues goes under it), or null when it lost.
   */
  async markPaid(
    trx: PayserverDb,
    orderId: string,
    paymentId: string,
    now: string,
  ): Promise<{ correlationId: string | null } | null> {
    const row = (await markCheckoutPaid(trx, orderId, paymentId, now)).rows[0];
    return row ? { correlationId: row.correlation_id } : null;
  },

  /** open → closed (the order ended at the back-end). */
  async close(trx: PayserverDb, orderId: string): Promise<void> {
    await moveRow(trx, 'checkouts', { order_id: orderId, status: 'open' }, { status: 'closed' });
  },

  /** paid → closed: the payment that paid it was refunded (the order had ended). */
  async closeRefunded(trx: PayserverDb, orderId: string, paymentId: string): Promise<void> {
    await moveRow(
      trx,
      'checkouts',
      { order_id: orderId, status: 'paid', paid_payment_id: paymentId },
      { status: 'closed' },
    );
  },

  /**
   * Ends an order the payment server never saw started (a cancel that overtook its start): the
   * `never_started` row holds the order's lock (its primary key), so a late start finds it ended.
   */
  async closeBeforeStart(trx: PayserverDb, orderId: string, linkTokenHash: string, now: string): Promise<void> {
    await trx
      .insertInto('checkouts')
      .values({
        order_id: orderId,
        link_token_hash: linkTokenHash,
        phone: '',
        amount_minor: 0,
        currency: NO_CURRENCY,
        product_title: '',
        payee: '',
        device_id: '',
        attempt: 0,
        status: 'never_started',
        expires_at: now,
        created_at: now,
        paid_payment_id: null,
        renews_days: null,
        correlation_id: null,
      })
      .execute();
  },

  /** Open checkouts whose order has expired. */
  async dueToExpire(db: PayserverDb, now: string, limit: number): Promise<string[]> {
    const rows = await db
      .selectFrom('checkouts')
      .select('order_id')
      .where('status', '=', 'open')
      .where('expires_at', '<=', now)
      .limit(limit)
      .execute();
    return rows.map((r) => r.order_id);
  },

  // --- the phone page's sessions ---

  insertSession: sessions.insert,
  sessionById: sessions.byKey,

  /** A session of this order, by id. */
  async sessionOf(db: PayserverDb, id: string, orderId: string): Promise<PageSession | undefined> {
    return rowWhere(db, 'page_sessions', { id, order_id: orderId });
  },

  /** Stores the hash of the code just drawn for a session. */
  async setSessionCode(trx: PayserverDb, id: string, codeHash: string, expiresAt: string): Promise<void> {
    await moveRow(trx, 'page_sessions', { id }, { code_hash: codeHash, code_expires_at: expiresAt });
  },

  /** Takes one of the session's tries before a check, in one conditional UPDATE; the session after, or undefined. */
  async takeSessionTry(
    db: PayserverDb,
    id: string,
    orderId: string,
    maxTries: number,
  ): Promise<PageSession | undefined> {
    return db
      .updateTable('page_sessions')
      .set((eb) => ({ wrong_tries: eb('wrong_tries', '+', 1) }))
      .where('id', '=', id)
      .where('order_id', '=', orderId)
      .where('code_hash', 'is not', null)
      .where('verified_at', 'is', null)
      .where('wrong_tries', '<', maxTries)
      .returningAll()
      .executeTakeFirst();
  },

  /** Marks the session proven and stores its grant's hash (the code is spent); whether this call did. */
  async verifySession(db: PayserverDb, id: string, codeHash: string, grantHash: string, now: string): Promise<boolean> {
    const from = { id, verified_at: null, code_hash: codeHash };
    return moveRow(db, 'page_sessions', from, { grant_hash: grantHash, verified_at: now, code_hash: null });
  },

  async sessionByGrant(db: PayserverDb, grantHash: string, orderId: string): Promise<PageSession | undefined> {
    return rowWhere(db, 'page_sessions', { grant_hash: grantHash, order_id: orderId });
  },

  /** Spends a grant (one payment per grant); whether this call did. */
  async spendGrant(trx: PayserverDb, id: string, grantHash: string): Promise<boolean> {
    return moveRow(trx, 'page_sessions', { id, grant_hash: grantHash }, { grant_hash: null });
  },
};

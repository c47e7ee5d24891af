import type { Kysely, Selectable, Updateable } from 'kysely';
import { compared, insertRow, moveRow, rowsDue, rowWhere, whereInRange, type Match } from '../../lib/db/rows.ts';
import { isUniqueViolation } from '../../lib/db/unique-violation.ts';
import type { DevAlipayTables } from './schema.ts';

export type Trade = Selectable<DevAlipayTables['trades']>;
export type Agreement = Selectable<DevAlipayTables['agreements']>;
export type Notification = Selectable<DevAlipayTables['notifications']>;
type Db = Kysely<DevAlipayTables>;

/** A notification to queue in the same transaction as the change it tells of. */
export interface QueuedNotification {
  id: string;
  url: string;
  body: string;
}

/** The development Alipay's store: the only code that writes its tables. Every state change is forward-only. */
export class DevAlipayStore {
  constructor(readonly db: Db) {}

  tradeByOutTradeNo(appId: string, outTradeNo: string): Promise<Trade | undefined> {
    return this.db
      .selectFrom('trades')
      .selectAll()
      .where('app_id', '=', appId)
      .where('out_trade_no', '=', outTradeNo)
      .executeTakeFirst();
  }

  trade(tradeNo: string): Promise<Trade | undefined> {
    return this.db.selectFrom('trades').selectAll().where('trade_no', '=', tradeNo).executeTakeFirst();
  }

  tradeByQr(qr: string): Promise<Trade | undefined> {
    return this.db.selectFrom('trades').selectAll().where('qr_code', '=', qr).executeTakeFirst();
  }

  /** Records a new trade; false when its out_trade_no was taken meanwhile (a concurrent request). */
  async insertTrade(trade: Trade): Promise<boolean> {
    return this.db
      .insertInto('trades')
      .values(trade)
      .execute()
      .then(
        () => true,
        (err: unknown) => refuseDuplicate(err) ?? false,
      );
  }

  async markSeen(tradeNo: string): Promise<void> {
    await this.db.updateTable('trades').set({ seen: 1 }).where('trade_no', '=', tradeNo).execute();
  }

  /** Pays a waiting, unexpired trade; false when it was not waiting any more. */
  async pay(
    tradeNo: string,
    at: string,
    buyer: string,
    notifications: QueuedNotification[],
    agreement?: Agreement,
  ): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const r = await tx
        .updateTable('trades')
        .set({ status: 'TRADE_SUCCESS', paid_at: at, buyer_logon_id: buyer, seen: 1 })
        .where('trade_no', '=', tradeNo)
        .where('status', '=', 'WAIT_BUYER_PAY')
        .where('expire_at', '>', at)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return false;
      if (agreement) await tx.insertInto('agreements').values(agreement).execute();
      for (const n of notifications) await queue(tx, n, at);
      return true;
    });
  }

  /**
   * Charges an agreement's dev balance and records the paid trade, in one statement's check: the balance
   * is taken only if it covers the amount. False when the agreement is not in force or too poor.
   */
  async charge(trade: Trade, notification: QueuedNotification | undefined): Promise<'paid' | 'poor' | 'duplicate'> {
    const agreementNo = JSON.parse(trade.agreement_sign ?? '{}').agreement_no as string;
    const paid = await this.db
      .transaction()
      .execute(async (tx) => {
        const r = await tx
          .updateTable('agreements')
          .set((eb) => ({ balance_fen: eb('balance_fen', '-', trade.total_fen) }))
          .where('agreement_no', '=', agreementNo)
          .where('status', '=', 'NORMAL')
          .where('balance_fen', '>=', trade.total_fen)
          .executeTakeFirst();
        if (Number(r.numUpdatedRows) !== 1) return false;
        await tx.insertInto('trades').values(trade).execute();
        if (notification) await queue(tx, notification, trade.created_at);
        return true;
      })
      .then((ok) => ok, refuseDuplicate);
    return paid === undefined ? 'duplicate' : paid ? 'paid' : 'poor';
  }

  /**
   * Moves one row of `table` forward and queues the notification that tells of it, in one transaction:
   * false (and nothing queued) when the row was no longer in `from`.
   */
  #moveAndQueue<T extends 'trades' | 'agreements'>(
    table: T,
    from: Match<DevAlipayTables[T]>,
    set: Updateable<DevAlipayTables[T]>,
    at: string,
    notification?: QueuedNotification,
  ): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      if (!(await moveRow<DevAlipayTables, T>(tx, table, from, set))) return false;
      if (notification) await queue(tx, notification, at);
      return true;
    });
  }

  /** Closes a waiting trade (by the merchant, or at its time_expire); false when it was not waiting. */
  async close(tradeNo: string, at: string, notification?: QueuedNotification): Promise<boolean> {
    const from = { trade_no: tradeNo, status: 'WAIT_BUYER_PAY' };
    return this.#moveAndQueue('trades', from, { status: 'TRADE_CLOSED', closed_at: at }, at, notification);
  }

  expiredTrades(now: string): Promise<Trade[]> {
    return this.db
      .selectFrom('trades')
      .selectAll()
      .where('status', '=', 'WAIT_BUYER_PAY')
      .where('expire_at', '<=', now)
      .limit(100)
      .execute();
  }

  refund(tradeNo: string, outRequestNo: string): Promise<Selectable<DevAlipayTables['refunds']> | undefined> {
    return rowWhere(this.db, 'refunds', { trade_no: tradeNo, out_request_no: outRequestNo });
  }

  /** Refunds part of a paid trade if what is left covers it; a full refund closes the trade. */
  async addRefund(trade: Trade, outRequestNo: string, amountFen: number, at: string): Promise<boolean> {
    const done = this.db.transaction().execute(async (tx) => {
      const full = trade.refunded_fen + amountFen === trade.total_fen;
      const r = await tx
        .updateTable('trades')
        .set((eb) => ({
          refunded_fen: eb('refunded_fen', '+', amountFen),
          ...(full ? { status: 'TRADE_CLOSED', closed_at: at } : {}),
        }))
        .where('trade_no', '=', trade.trade_no)
        .where('status', '=', 'TRADE_SUCCESS')
        .where('refunded_fen', '=', trade.refunded_fen)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return false;
      await tx
        .insertInto('refunds')
        .values({ trade_no: trade.trade_no, out_request_no: outRequestNo, amount_fen: amountFen, at })
        .execute();
      return true;
    });
    return done.catch(refuseDuplicate).then((ok) => ok === true);
  }

  agreement(appId: string, agreementNo: string): Promise<Agreement | undefined> {
    return rowWhere(this.db, 'agreements', { app_id: appId, agreement_no: agreementNo });
  }

  async unsign(agreementNo: string, at: string, notification?: QueuedNotification): Promise<boolean> {
    const from = { agreement_no: agreementNo, status: 'NORMAL' };
    return this.#moveAndQueue('agreements', from, { status: 'UNSIGN', unsigned_at: at }, at, notification);
  }

  dueNotifications(now: string, maxAttempts: number): Promise<Notification[]> {
    const undelivered = { delivered_at: null, attempts: compared('<', maxAttempts) };
    return rowsDue(this.db, 'notifications', undelivered, 'next_at', now, 50);
  }

  async attempted(id: string, attempts: number, outcome: { deliveredAt: string } | { nextAt: string }): Promise<void> {
    await this.db
      .updateTable('notifications')
      .set(
        'deliveredAt' in outcome
          ? { attempts, delivered_at: outcome.deliveredAt }
          : { attempts, next_at: outcome.nextAt },
      )
      .where('id', '=', id)
      .where('delivered_at', 'is', null)
      .execute();
  }

  notifications(): Promise<Notification[]> {
    return this.db.selectFrom('notifications').selectAll().orderBy('id').execute();
  }

  async addBillLink(link: Selectable<DevAlipayTables['bill_links']>): Promise<void> {
    await insertRow(this.db, 'bill_links', link);
  }

  billLink(token: string): Promise<Selectable<DevAlipayTables['bill_links']> | undefined> {
    return this.db.selectFrom('bill_links').selectAll().where('token', '=', token).executeTakeFirst();
  }

  /** A business day's payments and refunds: `from`/`to` are ISO instants bounding the Beijing day. */
  async dayActivity(appId: string, from: string, to: string) {
    const paid = await this.db
      .selectFrom('trades')
      .selectAll()
      .where('app_id', '=', appId)
      .$call((q) => whereInRange(q, 'paid_at', [from, to]))
      .orderBy('paid_at')
      .execute();
    const refunds = await this.db
      .selectFrom('refunds')
      .innerJoin('trades', 'trades.trade_no', 'refunds.trade_no')
      .select([
        'refunds.out_request_no',
        'refunds.amount_fen',
        'refunds.at',
        'trades.trade_no',
        'trades.out_trade_no',
        'trades.subject',
        'trades.created_at',
      ])
      .where('trades.app_id', '=', appId)
      .$call((q) => whereInRange(q, 'refunds.at', [from, to]))
      .orderBy('refunds.at')
      .execute();
    return { paid, refunds };
  }
}

/** A unique-key violation is a concurrent request that got there first: `undefined`; anything else is a bug. */
function refuseDuplicate(err: unknown): undefined {
  if (isUniqueViolation(err)) return undefined;
  throw err;
}

async function queue(tx: Db, n: QueuedNotification, now: string): Promise<void> {
  await tx
    .insertInto('notifications')
    .values({ ...n, attempts: 0, next_at: now, delivered_at: null })
    .execute();
}

/**
 * The development WeChat Pay's store: the one writer of its tables. State moves forward only
 * (`UPDATE … WHERE state IN …`), and a papay charge takes the contract's balance in one statement.
 */
import type { Kysely, Selectable } from 'kysely';
import { lowerRow, moveRow, rowsDue, rowsInRange } from '../../lib/db/rows.ts';
import type { DevWechatpayTables } from './schema.ts';

export type TransactionRow = Selectable<DevWechatpayTables['wx_transactions']>;
export type RefundRow = Selectable<DevWechatpayTables['wx_refunds']>;
export type ContractRow = Selectable<DevWechatpayTables['wx_contracts']>;
export type SessionRow = Selectable<DevWechatpayTables['wx_sign_sessions']>;
export type NotificationRow = Selectable<DevWechatpayTables['wx_notifications']>;

export class DevWechatpayStore {
  constructor(private readonly db: Kysely<DevWechatpayTables>) {}

  transaction(outTradeNo: string): Promise<TransactionRow | undefined> {
    return this.db.selectFrom('wx_transactions').selectAll().where('out_trade_no', '=', outTradeNo).executeTakeFirst();
  }

  transactionByKey(accessKey: string): Promise<TransactionRow | undefined> {
    return this.db.selectFrom('wx_transactions').selectAll().where('access_key', '=', accessKey).executeTakeFirst();
  }

  /** Inserts a trade unless its number exists; answers whether it was new. */
  async insertTransaction(row: DevWechatpayTables['wx_transactions']): Promise<boolean> {
    const r = await this.db
      .insertInto('wx_transactions')
      .values(row)
      .onConflict((oc) => oc.column('out_trade_no').doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  /** Moves a trade from one of `from` to `to`; answers whether it moved. */
  async moveTransaction(
    outTradeNo: string,
    from: string[],
    to: string,
    extra: { success_time?: string; openid?: string } = {},
  ): Promise<boolean> {
    return moveRow(
      this.db,
      'wx_transactions',
      { out_trade_no: outTradeNo, trade_state: from },
      { trade_state: to, ...extra },
    );
  }

  transactionsIn(state: string): Promise<TransactionRow[]> {
    return this.db.selectFrom('wx_transactions').selectAll().where('trade_state', '=', state).limit(100).execute();
  }

  paidBetween(fromIso: string, toIso: string): Promise<TransactionRow[]> {
    return rowsInRange(this.db, 'wx_transactions', 'success_time', [fromIso, toIso]);
  }

  refund(outRefundNo: string): Promise<RefundRow | undefined> {
    return this.db.selectFrom('wx_refunds').selectAll().where('out_refund_no', '=', outRefundNo).executeTakeFirst();
  }

  /**
   * Records a refund and counts it against its trade in one transaction: the trade's `refunded` grows only
   * while it stays within the total (checked and counted in one statement). Answers whether it was taken.
   */
  async insertRefund(row: DevWechatpayTables['wx_refunds'], total: number): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const counted = await trx
        .updateTable('wx_transactions')
        .set((eb) => ({ refunded: eb('refunded', '+', row.refund) }))
        .where('out_trade_no', '=', row.out_trade_no)
        .where('trade_state', 'in', ['SUCCESS'])
        .where((eb) => eb(eb('refunded', '+', row.refund), '<=', total))
        .executeTakeFirst();
      if (Number(counted.numUpdatedRows) !== 1) return false;
      await trx.insertInto('wx_refunds').values(row).execute();
      return true;
    });
  }

  refundsIn(status: string): Promise<RefundRow[]> {
    return this.db.selectFrom('wx_refunds').selectAll().where('status', '=', status).limit(100).execute();
  }

  refundsBetween(fromIso: string, toIso: string): Promise<RefundRow[]> {
    return rowsInRange(this.db, 'wx_refunds', 'success_time', [fromIso, toIso]);
  }

  async finishRefund(outRefundNo: string, successTime: string): Promise<boolean> {
    const from = { out_refund_no: outRefundNo, status: 'PROCESSING' };
    return moveRow(this.db, 'wx_refunds', from, { status: 'SUCCESS', success_time: successTime });
  }

  insertSession(row: DevWechatpayTables['wx_sign_sessions']): Promise<unknown> {
    return this.db.insertInto('wx_sign_sessions').values(row).execute();
  }

  session(id: string): Promise<SessionRow | undefined> {
    return this.db.selectFrom('wx_sign_sessions').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async useSession(id: string): Promise<boolean> {
    return moveRow(this.db, 'wx_sign_sessions', { id, used: 0 }, { used: 1 });
  }

  contract(contractId: string): Promise<ContractRow | undefined> {
    return this.db.selectFrom('wx_contracts').selectAll().where('contract_id', '=', contractId).executeTakeFirst();
  }

  contractByCode(code: string): Promise<ContractRow | undefined> {
    return this.db.selectFrom('wx_contracts').selectAll().where('out_contract_code', '=', code).executeTakeFirst();
  }

  insertContract(row: DevWechatpayTables['wx_contracts']): Promise<unknown> {
    return this.db.insertInto('wx_contracts').values(row).execute();
  }

  async terminateContract(contractId: string, at: string): Promise<boolean> {
    const from = { contract_id: contractId, state: 'SIGNED' };
    return moveRow(this.db, 'wx_contracts', from, { state: 'TERMINATED', terminated_at: at });
  }

  async setBalance(contractId: string, balance: number): Promise<boolean> {
    return moveRow(this.db, 'wx_contracts', { contract_id: contractId }, { balance });
  }

  /** Takes a papay charge from a signed contract's balance and records the trade, or neither. */
  async chargeContract(row: DevWechatpayTables['wx_transactions']): Promise<'ok' | 'NOT_ENOUGH' | 'USED'> {
    return this.db
      .transaction()
      .execute(async (trx) => {
        const signed = { contract_id: row.contract_id!, state: 'SIGNED' };
        if ((await lowerRow(trx, 'wx_contracts', signed, 'balance', row.total)) !== 1) return 'NOT_ENOUGH';
        const r = await trx
          .insertInto('wx_transactions')
          .values(row)
          .onConflict((oc) => oc.column('out_trade_no').doNothing())
          .executeTakeFirst();
        if (Number(r.numInsertedOrUpdatedRows ?? 0) !== 1) throw new UsedTradeNo();
        return 'ok';
      })
      .catch((err) => {
        if (err instanceof UsedTradeNo) return 'USED' as const;
        throw err;
      });
  }

  insertNotification(row: DevWechatpayTables['wx_notifications']): Promise<unknown> {
    return this.db.insertInto('wx_notifications').values(row).execute();
  }

  dueNotifications(nowMs: number): Promise<NotificationRow[]> {
    return rowsDue(this.db, 'wx_notifications', { state: 'pending' }, 'next_at', nowMs, 20);
  }

  notifications(): Promise<NotificationRow[]> {
    return this.db.selectFrom('wx_notifications').selectAll().orderBy('id').execute();
  }

  async recordAttempt(id: string, next: { state: string; next_at: number; last_status: number | null }): Promise<void> {
    await this.db
      .updateTable('wx_notifications')
      .set((eb) => ({ ...next, attempts: eb('attempts', '+', 1) }))
      .where('id', '=', id)
      .where('state', '=', 'pending')
      .execute();
  }

  insertBillToken(token: string, billDate: string, createdAt: string): Promise<unknown> {
    return this.db.insertInto('wx_bill_tokens').values({ token, bill_date: billDate, created_at: createdAt }).execute();
  }

  billToken(token: string) {
    return this.db.selectFrom('wx_bill_tokens').selectAll().where('token', '=', token).executeTakeFirst();
  }
}

class UsedTradeNo extends Error {}

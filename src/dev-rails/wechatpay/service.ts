/**
 * The development WeChat Pay's rules, without HTTP: what API v3 accepts and answers, what the cashier,
 * scan and signing pages do, the asynchronous work (papay charges, refunds) and the notifications it
 * owes, retried on WeChat Pay's schedule until the merchant answers 2xx.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../../lib/clock.ts';
import type { RandomSource } from '../../lib/ids.ts';
import type { Log } from '../../lib/log.ts';
import { isWechatAmount, isWechatOutTradeNo, shanghaiDay, toWechatTime } from '../../payserver/rails/wechatpay/wire.ts';
import { tradeBillFile } from './bill-file.ts';
import type { DevWechatpayKeys } from './keys.ts';
import { notificationBody, signedHeaders } from './protocol.ts';
import type { DevWechatpayStore, TransactionRow } from './store.ts';

/** An API answer: a status and, unless 204, a JSON body. */
export interface WxAnswer {
  status: number;
  body?: object;
}

/** A new contract's development balance (¥1000.00), what papay charges take from until it is set. */
export const DEFAULT_CONTRACT_BALANCE_FEN = 100_000;

/** WeChat Pay's waits between notification attempts (15s/15s/30s/3m/10m/20m/30m/30m/30m/60m/3h/3h/3h/6h/6h). */
export const NOTIFY_RETRY_MS = [
  15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600,
].map((s) => s * 1000);

type Body = Record<string, any>;

const err = (status: number, code: string, message: string): WxAnswer => ({ status, body: { code, message } });
const paramError = (message: string) => err(400, 'PARAM_ERROR', message);

function isHttpUrl(v: unknown): v is string {
  return typeof v === 'string' && /^https?:\/\/[^\s]+$/.test(v) && v.length <= 256;
}

export class DevWechatpayService {
  constructor(
    private readonly deps: {
      store: DevWechatpayStore;
      keys: DevWechatpayKeys;
      clock: Clock;
      random: RandomSource;
      log: Log;
      publicUrl: string;
    },
  ) {}

  private get now(): Date {
    return this.deps.clock.now();
  }

  /** A WeChat-Pay-like numeric id (`4200…` trades, `5030…` refunds): the prefix and 20 random digits. */
  private digits(prefix: string): string {
    return `${prefix}${Array.from({ length: 4 }, () => this.deps.random.code())
      .join('')
      .slice(0, 20)}`;
  }

  /** Checks the terms every order carries; answers the refusal WeChat Pay would give, if any. */
  private orderProblem(b: Body, needExpiry: boolean): WxAnswer | undefined {
    if (b.mchid !== undefined && b.mchid !== this.deps.keys.mchId) return err(400, 'MCH_NOT_EXISTS', '商户号不存在');
    if (b.appid !== this.deps.keys.appId) return err(400, 'APPID_MCHID_NOT_MATCH', 'appid和mch_id不匹配');
    if (typeof b.out_trade_no !== 'string' || !isWechatOutTradeNo(b.out_trade_no)) {
      return paramError('out_trade_no 须为6-32位字母、数字、_-|* / out_trade_no must be 6-32 of [A-Za-z0-9_-|*]');
    }
    if (typeof b.description !== 'string' || b.description.length < 1 || b.description.length > 127) {
      return paramError('description 长度须为1-127 / description must be 1-127 characters');
    }
    if (!isWechatAmount(b.amount?.total) || (b.amount?.currency ?? 'CNY') !== 'CNY') {
      return paramError('amount.total 须为正整数(分), currency 须为 CNY / amount.total in fen, currency CNY');
    }
    if (needExpiry && b.time_expire !== undefined) {
      if (
        typeof b.time_expire !== 'string' ||
        !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/.test(b.time_expire)
      ) {
        return paramError('time_expire 须为 RFC 3339 / time_expire must be RFC 3339');
      }
    }
    return undefined;
  }

  /** `POST /v3/pay/transactions/native` and `/h5`. */
  async createOrder(tradeType: 'NATIVE' | 'MWEB', b: Body): Promise<WxAnswer> {
    const problem = this.orderProblem(b, true);
    if (problem) return problem;
    if (!isHttpUrl(b.notify_url)) return paramError('notify_url 须为 http(s) URL / notify_url must be a URL');
    if (tradeType === 'MWEB') {
      if (typeof b.scene_info?.payer_client_ip !== 'string' || b.scene_info.payer_client_ip === '') {
        return paramError('scene_info.payer_client_ip 必填 / scene_info.payer_client_ip is required');
      }
      if (typeof b.scene_info?.h5_info?.type !== 'string') return paramError('scene_info.h5_info.type 必填');
    }
    const accessKey = tradeType === 'NATIVE' ? this.deps.random.token().slice(0, 24) : `wx${this.digits('')}`;
    const row = {
      out_trade_no: b.out_trade_no as string,
      transaction_id: this.digits('4200'),
      trade_type: tradeType,
      appid: b.appid as string,
      description: b.description as string,
      total: b.amount.total as number,
      notify_url: b.notify_url as string,
      time_expire: b.time_expire ? new Date(b.time_expire).toISOString() : null,
      trade_state: 'NOTPAY',
      access_key: accessKey,
      contract_id: null,
      openid: null,
      success_time: null,
      refunded: 0,
      created_at: this.now.toISOString(),
    };
    let trade = row as TransactionRow;
    if (!(await this.deps.store.insertTransaction(row))) {
      trade = (await this.deps.store.transaction(row.out_trade_no))!;
      const same =
        trade.trade_type === row.trade_type &&
        trade.total === row.total &&
        trade.description === row.description &&
        trade.time_expire === row.time_expire;
      if (!same) return err(403, 'OUT_TRADE_NO_USED', '商户订单号重复 / out_trade_no used with other terms');
    }
    if (trade.trade_type === 'NATIVE') return { status: 200, body: { code_url: this.codeUrl(trade) } };
    return { status: 200, body: { h5_url: this.h5Url(trade) } };
  }

  codeUrl(t: TransactionRow): string {
    return `weixin://wxpay/bizpayurl?pr=${t.access_key}`;
  }

  private h5Url(t: TransactionRow): string {
    return `${this.deps.publicUrl}/dev/wechatpay/cashier?prepay_id=${t.access_key}&package=${t.total}`;
  }

  /** The trade a code_url's `pr` or an h5 `prepay_id` names, as a page shows it. */
  async tradeByKey(accessKey: string): Promise<TransactionRow | undefined> {
    return this.settleExpiry(await this.deps.store.transactionByKey(accessKey));
  }

  /** A signing session a page shows, while it is valid (10 minutes) and unused. */
  async session(id: string) {
    const s = await this.deps.store.session(id);
    return s && !s.used && Date.parse(s.created_at) + 600_000 >= this.now.getTime() ? s : undefined;
  }

  /** The merchant's ids as pages show them. */
  get merchant(): { mchId: string; appId: string } {
    return { mchId: this.deps.keys.mchId, appId: this.deps.keys.appId };
  }

  /** A trade past its `time_expire` that nobody paid is closed: it can no longer take money. */
  private async settleExpiry(t: TransactionRow | undefined): Promise<TransactionRow | undefined> {
    if (t && t.trade_state === 'NOTPAY' && t.time_expire && Date.parse(t.time_expire) <= this.now.getTime()) {
      await this.deps.store.moveTransaction(t.out_trade_no, ['NOTPAY'], 'CLOSED');
      return this.deps.store.transaction(t.out_trade_no);
    }
    return t;
  }

  /** A transaction as WeChat Pay answers and notifies it. */
  transactionJson(t: TransactionRow): object {
    const paid = t.trade_state === 'SUCCESS' || t.trade_state === 'REFUND';
    return {
      appid: t.appid,
      mchid: this.deps.keys.mchId,
      out_trade_no: t.out_trade_no,
      trade_type: t.trade_type,
      trade_state: t.trade_state,
      trade_state_desc: t.trade_state,
      ...(paid
        ? {
            transaction_id: t.transaction_id,
            bank_type: 'OTHERS',
            success_time: toWechatTime(new Date(t.success_time!)),
            payer: { openid: t.openid },
          }
        : {}),
      ...(t.contract_id ? { contract_id: t.contract_id } : {}),
      amount: { total: t.total, payer_total: paid ? t.total : 0, currency: 'CNY', payer_currency: 'CNY' },
    };
  }

  /** `GET /v3/pay/transactions/out-trade-no/{no}?mchid=`. */
  async query(outTradeNo: string, mchid: unknown): Promise<WxAnswer> {
    if (mchid !== this.deps.keys.mchId) return err(400, 'MCH_NOT_EXISTS', '商户号不存在');
    const t = await this.settleExpiry(await this.deps.store.transaction(outTradeNo));
    if (!t) return err(404, 'ORDER_NOT_EXIST', '订单不存在');
    return { status: 200, body: this.transactionJson(t) };
  }

  /** `POST /v3/pay/transactions/out-trade-no/{no}/close`: 204, or `ORDERPAID`. */
  async close(outTradeNo: string, b: Body): Promise<WxAnswer> {
    if (b.mchid !== this.deps.keys.mchId) return err(400, 'MCH_NOT_EXISTS', '商户号不存在');
    const t = await this.deps.store.transaction(outTradeNo);
    if (!t) return err(404, 'ORDER_NOT_EXIST', '订单不存在');
    await this.deps.store.moveTransaction(outTradeNo, ['NOTPAY', 'USERPAYING'], 'CLOSED');
    const after = (await this.deps.store.transaction(outTradeNo))!;
    if (after.trade_state === 'SUCCESS' || after.trade_state === 'REFUND' || after.trade_state === 'ACCEPT') {
      return err(400, 'ORDERPAID', '订单已支付 / the order is paid');
    }
    return { status: 204 };
  }

  /** Pays a trade on the cashier or scan page (or declines it); queues `TRANSACTION.SUCCESS`. */
  async pay(outTradeNo: string): Promise<'paid' | 'closed' | 'already'> {
    const t = await this.settleExpiry(await this.deps.store.transaction(outTradeNo));
    if (!t || t.trade_state === 'CLOSED') return 'closed';
    const openid = `o${this.deps.random.token().slice(0, 27)}`;
    const moved = await this.deps.store.moveTransaction(outTradeNo, ['NOTPAY'], 'SUCCESS', {
      success_time: this.now.toISOString(),
      openid,
    });
    if (!moved) return 'already';
    await this.notifyTransaction((await this.deps.store.transaction(outTradeNo))!);
    return 'paid';
  }

  private async notifyTransaction(t: TransactionRow): Promise<void> {
    const success = t.trade_state === 'SUCCESS';
    await this.queue(t.notify_url, {
      eventType: success ? 'TRANSACTION.SUCCESS' : 'TRANSACTION.PAYERROR',
      summary: success ? '支付成功' : '支付失败',
      originalType: 'transaction',
      resource: this.transactionJson(t),
    });
  }

  /** Queues one notification; the notifier delivers it (tick). */
  async queue(url: string, n: { eventType: string; summary: string; originalType: string; resource: object }) {
    const id = this.deps.random.id('EV');
    const body = notificationBody(this.deps.keys, { id, createTime: toWechatTime(this.now), ...n });
    await this.deps.store.insertNotification({
      id,
      url,
      body,
      attempts: 0,
      next_at: this.now.getTime(),
      state: 'pending',
      last_status: null,
    });
  }

  /** Sends due notifications once each, signed now; a failure waits its turn in WeChat Pay's schedule. */
  async deliverDue(): Promise<void> {
    for (const n of await this.deps.store.dueNotifications(this.now.getTime())) {
      const headers = signedHeaders(n.body, this.deps.keys, Math.floor(this.now.getTime() / 1000));
      let status: number | null = null;
      try {
        const res = await fetch(n.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: n.body,
          signal: AbortSignal.timeout(5000),
        });
        status = res.status;
        await res.body?.cancel();
      } catch {
        status = null;
      }
      const delivered = status !== null && status >= 200 && status < 300;
      const wait = NOTIFY_RETRY_MS[n.attempts];
      const state = delivered ? 'delivered' : wait === undefined ? 'failed' : 'pending';
      await this.deps.store.recordAttempt(n.id, {
        state,
        next_at: this.now.getTime() + (wait ?? 0),
        last_status: status,
      });
      if (!delivered) this.deps.log.info({ notification: n.id, status }, 'dev WeChat Pay notification not taken');
    }
  }

  /** What the development WeChat Pay does by itself: papay charges and refunds complete, then notify. */
  async completeAccepted(): Promise<void> {
    for (const t of await this.deps.store.transactionsIn('ACCEPT')) {
      const at = this.now.toISOString();
      if (await this.deps.store.moveTransaction(t.out_trade_no, ['ACCEPT'], 'SUCCESS', { success_time: at })) {
        await this.notifyTransaction((await this.deps.store.transaction(t.out_trade_no))!);
      }
    }
    for (const r of await this.deps.store.refundsIn('PROCESSING')) {
      const at = this.now.toISOString();
      if (!(await this.deps.store.finishRefund(r.out_refund_no, at))) continue;
      const t = (await this.deps.store.transaction(r.out_trade_no))!;
      if (t.refunded >= t.total) await this.deps.store.moveTransaction(t.out_trade_no, ['SUCCESS'], 'REFUND');
      const done = (await this.deps.store.refund(r.out_refund_no))!;
      if (done.notify_url) {
        await this.queue(done.notify_url, {
          eventType: 'REFUND.SUCCESS',
          summary: '退款成功',
          originalType: 'refund',
          resource: { ...this.refundJson(done, t), refund_status: 'SUCCESS' },
        });
      }
    }
  }

  refundJson(r: NonNullable<Awaited<ReturnType<DevWechatpayStore['refund']>>>, t: TransactionRow): Body {
    return {
      mchid: this.deps.keys.mchId,
      refund_id: r.refund_id,
      out_refund_no: r.out_refund_no,
      transaction_id: t.transaction_id,
      out_trade_no: r.out_trade_no,
      channel: 'ORIGINAL',
      user_received_account: '支付用户零钱',
      status: r.status,
      create_time: toWechatTime(new Date(r.created_at)),
      ...(r.success_time ? { success_time: toWechatTime(new Date(r.success_time)) } : {}),
      amount: { total: t.total, refund: r.refund, payer_total: t.total, payer_refund: r.refund, currency: 'CNY' },
    };
  }

  /** `POST /v3/refund/domestic/refunds`: `PROCESSING` now, `SUCCESS` shortly; one refund per `out_refund_no`. */
  async refund(b: Body): Promise<WxAnswer> {
    if (typeof b.out_refund_no !== 'string' || !/^[A-Za-z0-9_\-|*@]{1,64}$/.test(b.out_refund_no)) {
      return paramError('out_refund_no 格式错误 / out_refund_no is malformed');
    }
    if (!isWechatAmount(b.amount?.refund) || !isWechatAmount(b.amount?.total) || b.amount?.currency !== 'CNY') {
      return paramError('amount.refund / amount.total 须为正整数(分), currency 为 CNY');
    }
    if (b.notify_url !== undefined && !isHttpUrl(b.notify_url)) return paramError('notify_url 须为 URL');
    const existing = await this.deps.store.refund(b.out_refund_no);
    const t = await this.deps.store.transaction(existing?.out_trade_no ?? String(b.out_trade_no));
    if (!t) return err(404, 'RESOURCE_NOT_EXISTS', '订单不存在 / no such trade');
    if (existing) return { status: 200, body: this.refundJson(existing, t) };
    if (b.amount.total !== t.total) return paramError('amount.total 与订单金额不符 / total is not the order amount');
    if (t.trade_state !== 'SUCCESS') return err(400, 'INVALID_REQUEST', '订单状态不可退款 / the trade is not paid');
    const row = {
      out_refund_no: b.out_refund_no as string,
      refund_id: this.digits('5030'),
      out_trade_no: t.out_trade_no,
      refund: b.amount.refund as number,
      status: 'PROCESSING',
      notify_url: (b.notify_url as string | undefined) ?? null,
      created_at: this.now.toISOString(),
      success_time: null,
    };
    if (!(await this.deps.store.insertRefund(row, t.total))) {
      const again = await this.deps.store.refund(row.out_refund_no);
      if (again) return { status: 200, body: this.refundJson(again, t) };
      return err(400, 'INVALID_REQUEST', '退款金额超过可退金额 / the refund exceeds what is left');
    }
    return { status: 200, body: this.refundJson((await this.deps.store.refund(row.out_refund_no))!, t) };
  }

  /** `GET /v3/refund/domestic/refunds/{out_refund_no}`. */
  async queryRefund(outRefundNo: string): Promise<WxAnswer> {
    const r = await this.deps.store.refund(outRefundNo);
    if (!r) return err(404, 'RESOURCE_NOT_EXISTS', '退款单不存在');
    return { status: 200, body: this.refundJson(r, (await this.deps.store.transaction(r.out_trade_no))!) };
  }

  /** `POST /v3/papay/sign/contracts/pre-entrust-sign/h5`: a signing session and its page's URL. */
  async presign(b: Body): Promise<WxAnswer> {
    if (b.appid !== this.deps.keys.appId) return err(400, 'APPID_MCHID_NOT_MATCH', 'appid和mch_id不匹配');
    if (String(b.plan_id) !== this.deps.keys.planId) return paramError('plan_id 不存在 / no such plan_id');
    if (typeof b.out_contract_code !== 'string' || !/^[A-Za-z0-9]{1,32}$/.test(b.out_contract_code)) {
      return paramError('out_contract_code 须为1-32位字母数字 / out_contract_code: 1-32 letters and digits');
    }
    if (!isHttpUrl(b.contract_notify_url)) return paramError('contract_notify_url 须为 URL');
    if (typeof b.contract_display_account !== 'string' || b.contract_display_account.length > 32) {
      return paramError('contract_display_account 必填 / contract_display_account is required');
    }
    if (typeof b.return_url !== 'string' || !/^https?:\/\//.test(b.return_url))
      return paramError('return_url 须为 URL');
    if (await this.deps.store.contractByCode(b.out_contract_code)) {
      return err(400, 'CONTRACT_CODE_USED', '商户签约协议号已使用 / out_contract_code already used');
    }
    const id = this.deps.random.token().slice(0, 32);
    await this.deps.store.insertSession({
      id,
      out_contract_code: b.out_contract_code,
      plan_id: String(b.plan_id),
      display_account: b.contract_display_account,
      notify_url: b.contract_notify_url,
      return_url: b.return_url,
      created_at: this.now.toISOString(),
      used: 0,
    });
    return { status: 200, body: { redirect_url: this.signUrl(id) } };
  }

  signUrl(sessionId: string): string {
    return `${this.deps.publicUrl}/dev/wechatpay/sign?session=${sessionId}`;
  }

  /** Signs a session's contract (10 minutes valid) with a development balance; queues `PAPAY.SIGN`. */
  async sign(sessionId: string, balanceFen: number): Promise<string | undefined> {
    const s = await this.deps.store.session(sessionId);
    if (!s || Date.parse(s.created_at) + 600_000 < this.now.getTime()) return undefined;
    if (!(await this.deps.store.useSession(sessionId))) return undefined;
    const contractId = this.digits('2024');
    const at = this.now.toISOString();
    const row = {
      contract_id: contractId,
      out_contract_code: s.out_contract_code,
      plan_id: s.plan_id,
      openid: `o${this.deps.random.token().slice(0, 27)}`,
      state: 'SIGNED',
      balance: balanceFen,
      notify_url: s.notify_url,
      signed_at: at,
      terminated_at: null,
    };
    await this.deps.store.insertContract(row);
    await this.notifyContract(row, 'ADD', at);
    return contractId;
  }

  private async notifyContract(
    c: { contract_id: string; out_contract_code: string; plan_id: string; openid: string; notify_url: string },
    change: 'ADD' | 'DELETE',
    at: string,
  ) {
    await this.queue(c.notify_url, {
      eventType: change === 'ADD' ? 'PAPAY.SIGN' : 'PAPAY.TERMINATE',
      summary: change === 'ADD' ? '签约成功' : '解约成功',
      originalType: 'papay',
      resource: {
        mchid: this.deps.keys.mchId,
        appid: this.deps.keys.appId,
        plan_id: Number(c.plan_id),
        out_contract_code: c.out_contract_code,
        contract_id: c.contract_id,
        openid: c.openid,
        change_type: change,
        contract_state: change === 'ADD' ? 'SIGNED' : 'TERMINATED',
        operate_time: toWechatTime(new Date(at)),
      },
    });
  }

  /** `POST /v3/papay/contracts/{contract_id}/terminate`: 204; queues `PAPAY.TERMINATE`. */
  /** The payer ends a contract in the app: as the merchant's terminate, notified the same way. */
  payerTerminates(contractId: string): Promise<WxAnswer> {
    return this.terminate(contractId, { appid: this.deps.keys.appId });
  }

  async terminate(contractId: string, b: Body): Promise<WxAnswer> {
    if (b.appid !== this.deps.keys.appId) return err(400, 'APPID_MCHID_NOT_MATCH', 'appid和mch_id不匹配');
    const c = await this.deps.store.contract(contractId);
    if (!c) return err(404, 'CONTRACT_NOT_EXIST', '协议不存在');
    const at = this.now.toISOString();
    if (!(await this.deps.store.terminateContract(contractId, at))) {
      return err(400, 'CONTRACT_TERMINATED', '协议已解约');
    }
    await this.notifyContract(c, 'DELETE', at);
    return { status: 204 };
  }

  /** Sets a contract's development balance (what makes `NOT_ENOUGH` reachable by hand or by a test). */
  setBalance(contractId: string, balanceFen: number): Promise<boolean> {
    return this.deps.store.setBalance(contractId, balanceFen);
  }

  /** `POST /v3/papay/pay/transactions/apply`: 204 accepted (charged shortly), `NOT_ENOUGH` now if short. */
  async applyPapay(b: Body): Promise<WxAnswer> {
    const problem = this.orderProblem(b, false);
    if (problem) return problem;
    if (!isHttpUrl(b.transaction_notify_url)) return paramError('transaction_notify_url 须为 URL');
    const c = typeof b.contract_id === 'string' ? await this.deps.store.contract(b.contract_id) : undefined;
    if (!c || c.state !== 'SIGNED') return err(403, 'CONTRACT_NOT_EXIST', '委托代扣协议不存在或已解约');
    if (await this.deps.store.transaction(b.out_trade_no)) return err(403, 'OUT_TRADE_NO_USED', '商户订单号重复');
    const outcome = await this.deps.store.chargeContract({
      out_trade_no: b.out_trade_no,
      transaction_id: this.digits('4200'),
      trade_type: 'PAP',
      appid: b.appid,
      description: b.description,
      total: b.amount.total,
      notify_url: b.transaction_notify_url,
      time_expire: null,
      trade_state: 'ACCEPT',
      access_key: null,
      contract_id: c.contract_id,
      openid: c.openid,
      success_time: null,
      refunded: 0,
      created_at: this.now.toISOString(),
    });
    if (outcome === 'NOT_ENOUGH') return err(403, 'NOT_ENOUGH', '用户账户余额不足 / the payer balance is short');
    if (outcome === 'USED') return err(403, 'OUT_TRADE_NO_USED', '商户订单号重复');
    return { status: 204 };
  }

  /** `GET /v3/bill/tradebill`: a download URL for a past business day (none for today or later). */
  async tradeBill(q: Body): Promise<WxAnswer> {
    const day = String(q.bill_date ?? '');
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return paramError('bill_date 须为 YYYY-MM-DD');
    if (q.bill_type !== undefined && q.bill_type !== 'ALL') return paramError('bill_type 仅支持 ALL (development)');
    if (day >= shanghaiDay(this.now)) return err(400, 'NO_STATEMENT_EXIST', '账单文件不存在 / no bill yet');
    const token = this.deps.random.token().slice(0, 32);
    await this.deps.store.insertBillToken(token, day, this.now.toISOString());
    const hash = createHash('sha1')
      .update(await this.billFile(day))
      .digest('hex');
    const downloadUrl = `${this.deps.publicUrl}/dev/wechatpay/v3/billdownload/file?token=${token}`;
    return { status: 200, body: { hash_type: 'SHA1', hash_value: hash, download_url: downloadUrl } };
  }

  /** The bill file a download token names (valid for 30 seconds, as WeChat Pay's are), or `undefined`. */
  async download(token: string): Promise<string | undefined> {
    const t = await this.deps.store.billToken(token);
    if (!t || Date.parse(t.created_at) + 30_000 < this.now.getTime()) return undefined;
    return this.billFile(t.bill_date);
  }

  /** One business day's trade bill (Asia/Shanghai), payments by when paid and refunds by when done. */
  async billFile(day: string): Promise<string> {
    const from = new Date(`${day}T00:00:00+08:00`);
    const to = new Date(from.getTime() + 86_400_000);
    const paid = await this.deps.store.paidBetween(from.toISOString(), to.toISOString());
    const refunds = [];
    for (const refund of await this.deps.store.refundsBetween(from.toISOString(), to.toISOString())) {
      refunds.push({ refund, trade: (await this.deps.store.transaction(refund.out_trade_no))! });
    }
    return tradeBillFile({ appId: this.deps.keys.appId, mchId: this.deps.keys.mchId }, paid, refunds);
  }
}

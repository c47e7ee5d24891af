import type { Clock } from '../../lib/clock.ts';
import type { RandomSource } from '../../lib/ids.ts';
import {
  beijingTime,
  fenToYuan,
  isOutTradeNo,
  parseBeijingTime,
  yuanToFen,
} from '../../payserver/rails/alipay/amounts.ts';
import { billCsv, encodeGbk, zip, type BillRow } from './bill-file.ts';
import { businessFailed, invalidArguments, missingArguments, success, type GatewayResponse } from './answers.ts';
import type { DevNotifier } from './notifier.ts';
import { requestSignatureValid } from './signing.ts';
import type { Agreement, DevAlipayStore, Trade } from './store.ts';

/** A payer's masked Alipay account, as Alipay shows `buyer_logon_id`. */
export const DEV_BUYER = 'dev***@example.com';
/** Each agreement's development balance unless the cashier's sign form says otherwise: ¥1000.00. */
export const DEFAULT_AGREEMENT_BALANCE_FEN = 100_000;
/** Alipay's default time to pay when no `time_expire` comes: 90 minutes. */
const DEFAULT_EXPIRY_MS = 90 * 60_000;

type Biz = Record<string, unknown>;
interface Terms {
  outTradeNo: string;
  totalFen: number;
  subject: string;
  expireAt: Date;
}

export interface DevAlipayServiceDeps {
  store: DevAlipayStore;
  notifier: DevNotifier;
  clock: Clock;
  random: RandomSource;
  appId: string;
  /** The merchant app's public key: every request's `sign` must verify with it. */
  appPublicKeyPem: string;
  /** Where this gateway is reached (`http://host:8082`): QR codes' scan page, the cashier, bills. */
  publicUrl: string;
}

/**
 * The development Alipay's rules, without HTTP: admitting a signed request as the OpenAPI 2.0 gateway
 * does, then each API's business rules over its own store.
 */
export class DevAlipayService {
  constructor(private readonly d: DevAlipayServiceDeps) {}

  /** Checks what the gateway checks before any API runs: method, app id, signature, biz_content. */
  admit(params: Record<string, string>): { biz: Biz } | { refused: GatewayResponse } {
    const r = (refused: GatewayResponse) => ({ refused });
    if (!params.method) return r(missingArguments('isv.missing-method', '缺少方法名参数'));
    if (!params.app_id) return r(missingArguments('isv.missing-app-id', '缺少AppID参数'));
    if (params.app_id !== this.d.appId) return r(invalidArguments('isv.invalid-app-id', '无效的AppID参数'));
    if (!params.sign) return r(missingArguments('isv.missing-signature', '缺少签名参数'));
    if (params.sign_type !== 'RSA2') return r(invalidArguments('isv.invalid-signature-type', '无效的签名类型'));
    if (params.charset && params.charset.toLowerCase() !== 'utf-8') {
      return r(invalidArguments('isv.invalid-charset', '字符集不合法'));
    }
    if (!requestSignatureValid(params, this.d.appPublicKeyPem)) {
      return r(invalidArguments('isv.invalid-signature', '验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配'));
    }
    try {
      const biz: unknown = JSON.parse(params.biz_content ?? '{}');
      if (typeof biz !== 'object' || biz === null || Array.isArray(biz)) throw new Error('not an object');
      return { biz: biz as Biz };
    } catch {
      return r(invalidArguments('isv.invalid-parameter', 'biz_content 不是 JSON 对象'));
    }
  }

  /** The trade a cashier shows; opening it makes it known to queries (as Alipay's does). */
  async openCashier(tradeNo: string): Promise<Trade | undefined> {
    await this.closeExpired();
    const t = await this.d.store.trade(tradeNo);
    if (!t || t.kind !== 'wap') return undefined;
    if (!t.seen) await this.d.store.markSeen(t.trade_no);
    return { ...t, seen: 1 };
  }

  /** The trade behind a scanned QR code; scanning makes it known to queries. */
  async openScan(qr: string): Promise<Trade | undefined> {
    await this.closeExpired();
    const t = await this.d.store.tradeByQr(qr);
    if (!t) return undefined;
    if (!t.seen) await this.d.store.markSeen(t.trade_no);
    return { ...t, seen: 1 };
  }

  /** One OpenAPI call (POST to gateway.do) after `admit`. */
  async call(method: string, biz: Biz, params: Record<string, string>): Promise<GatewayResponse> {
    await this.closeExpired();
    const api = GATEWAY_METHODS.get(method);
    if (!api) return invalidArguments('isv.invalid-method', `不存在的方法名 ${method}`);
    return api(this, biz, params.notify_url);
  }

  /** The trade terms every trade API takes, checked as Alipay checks them. */
  terms(biz: Biz): Terms | GatewayResponse {
    const outTradeNo = typeof biz.out_trade_no === 'string' ? biz.out_trade_no : '';
    if (!isOutTradeNo(outTradeNo))
      return businessFailed('ACQ.INVALID_PARAMETER', 'out_trade_no 须为 1 到 64 位字母、数字或下划线');
    const totalFen = yuanToFen(biz.total_amount);
    if (totalFen === undefined || totalFen < 1) {
      return businessFailed('ACQ.INVALID_PARAMETER', 'total_amount 须为 0.01 至 100000000 之间、最多两位小数的金额');
    }
    const subject = typeof biz.subject === 'string' ? biz.subject : '';
    if (!subject || subject.length > 256)
      return businessFailed('ACQ.INVALID_PARAMETER', 'subject 不能为空且不超过 256 字');
    const now = this.d.clock.now();
    const expireAt =
      biz.time_expire === undefined ? new Date(now.getTime() + DEFAULT_EXPIRY_MS) : parseBeijingTime(biz.time_expire);
    if (!expireAt || expireAt <= now)
      return businessFailed('ACQ.INVALID_PARAMETER', 'time_expire 须为将来的 yyyy-MM-dd HH:mm:ss');
    return { outTradeNo, totalFen, subject, expireAt };
  }

  /** An out_trade_no used before: the same waiting trade again, or Alipay's refusal. */
  async reuse(terms: Terms, kind: string): Promise<Trade | GatewayResponse | undefined> {
    const t = await this.d.store.tradeByOutTradeNo(this.d.appId, terms.outTradeNo);
    if (!t) return undefined;
    if (t.status === 'TRADE_SUCCESS') return businessFailed('ACQ.TRADE_HAS_SUCCESS', '交易已被支付');
    if (t.status === 'TRADE_CLOSED') return businessFailed('ACQ.TRADE_HAS_CLOSE', '交易已经关闭');
    if (t.kind !== kind || t.total_fen !== terms.totalFen || t.subject !== terms.subject) {
      return businessFailed('ACQ.CONTEXT_INCONSISTENT', '交易信息被篡改：同一 out_trade_no 的交易要素不一致');
    }
    return t;
  }

  newTrade(terms: Terms, kind: string, fields: Partial<Trade>): Trade {
    const now = this.d.clock.now();
    const digits = `${this.d.random.code()}${this.d.random.code()}${this.d.random.code()}`.slice(0, 15);
    return {
      trade_no: `${beijingTime(now).slice(0, 10).replaceAll('-', '')}22001${digits}`,
      app_id: this.d.appId,
      out_trade_no: terms.outTradeNo,
      kind,
      subject: terms.subject,
      total_fen: terms.totalFen,
      status: 'WAIT_BUYER_PAY',
      seen: 0,
      qr_code: null,
      notify_url: null,
      return_url: null,
      agreement_sign: null,
      expire_at: terms.expireAt.toISOString(),
      created_at: now.toISOString(),
      paid_at: null,
      closed_at: null,
      buyer_logon_id: null,
      refunded_fen: 0,
      ...fields,
    };
  }

  async precreate(biz: Biz, notifyUrl: string | undefined): Promise<GatewayResponse> {
    const terms = this.terms(biz);
    if ('code' in terms) return terms;
    const again = await this.reuse(terms, 'precreate');
    if (again && 'code' in again) return again;
    let trade = again;
    if (!trade) {
      const qr = `https://qr.alipay.com/bax0${this.d.random
        .token('')
        .replace(/[^A-Za-z0-9]/g, '')
        .slice(0, 24)
        .toLowerCase()}`;
      trade = this.newTrade(terms, 'precreate', { qr_code: qr, notify_url: notifyUrl ?? null });
      if (!(await this.d.store.insertTrade(trade))) return this.precreate(biz, notifyUrl);
    }
    return success({ out_trade_no: trade.out_trade_no, qr_code: trade.qr_code });
  }

  /** `alipay.trade.wap.pay` (a page call, GET): the trade to show at the cashier, or the refusal. */
  async wapPay(biz: Biz, params: Record<string, string>): Promise<Trade | GatewayResponse> {
    await this.closeExpired();
    if (biz.product_code !== 'QUICK_WAP_WAY')
      return businessFailed('ACQ.INVALID_PARAMETER', 'product_code 须为 QUICK_WAP_WAY');
    const terms = this.terms(biz);
    if ('code' in terms) return terms;
    const sign = biz.agreement_sign_params as Biz | undefined;
    if (sign !== undefined) {
      if (sign.personal_product_code !== 'GENERAL_WITHHOLDING_P' || typeof sign.external_agreement_no !== 'string') {
        return businessFailed(
          'ACQ.INVALID_PARAMETER',
          'agreement_sign_params 须有 personal_product_code 与 external_agreement_no',
        );
      }
    }
    const again = await this.reuse(terms, 'wap');
    if (again) return again;
    const trade = this.newTrade(terms, 'wap', {
      notify_url: params.notify_url ?? null,
      return_url: params.return_url ?? null,
      agreement_sign: sign ? JSON.stringify(sign) : null,
    });
    return (await this.d.store.insertTrade(trade)) ? trade : this.wapPay(biz, params);
  }

  /** `alipay.trade.pay` under an agreement: paid at once from the agreement's development balance. */
  async withhold(biz: Biz, notifyUrl: string | undefined): Promise<GatewayResponse> {
    if (biz.product_code !== 'GENERAL_WITHHOLDING')
      return businessFailed('ACQ.INVALID_PARAMETER', 'product_code 须为 GENERAL_WITHHOLDING');
    const terms = this.terms(biz);
    if ('code' in terms) return terms;
    const agreementNo = (biz.agreement_params as Biz | undefined)?.agreement_no;
    const agreement =
      typeof agreementNo === 'string' ? await this.d.store.agreement(this.d.appId, agreementNo) : undefined;
    if (!agreement) return businessFailed('ACQ.AGREEMENT_NOT_EXIST', '用户协议不存在');
    if (agreement.status !== 'NORMAL') return businessFailed('ACQ.AGREEMENT_INVALID', '用户协议已失效');
    const again = await this.reuse(terms, 'withholding');
    if (again) return 'code' in again ? again : businessFailed('ACQ.TRADE_HAS_CLOSE', '交易已经关闭');
    const now = this.d.clock.now().toISOString();
    const trade = this.newTrade(terms, 'withholding', {
      status: 'TRADE_SUCCESS',
      seen: 1,
      paid_at: now,
      buyer_logon_id: DEV_BUYER,
      notify_url: notifyUrl ?? null,
      agreement_sign: JSON.stringify({ agreement_no: agreement.agreement_no }),
    });
    const notice = notifyUrl ? this.tradeNotice(trade, notifyUrl) : undefined;
    const charged = await this.d.store.charge(trade, notice);
    if (charged === 'duplicate') return this.withhold(biz, notifyUrl);
    if (charged === 'poor') return businessFailed('ACQ.BUYER_BALANCE_NOT_ENOUGH', '买家余额不足');
    return success({ ...this.tradeFields(trade), gmt_payment: beijingTime(new Date(now)) });
  }

  tradeFields(t: Trade): Record<string, string> {
    return {
      trade_no: t.trade_no,
      out_trade_no: t.out_trade_no,
      total_amount: fenToYuan(t.total_fen),
      ...(t.buyer_logon_id ? { buyer_logon_id: t.buyer_logon_id } : {}),
    };
  }

  tradeNotice(t: Trade, url: string) {
    const fields: Record<string, string> = {
      ...this.tradeFields(t),
      trade_status: t.status,
      subject: t.subject,
      gmt_create: beijingTime(new Date(t.created_at)),
    };
    if (t.paid_at) {
      Object.assign(fields, { gmt_payment: beijingTime(new Date(t.paid_at)), receipt_amount: fenToYuan(t.total_fen) });
    }
    if (t.closed_at) fields.gmt_close = beijingTime(new Date(t.closed_at));
    return this.d.notifier.build(url, 'trade_status_sync', fields);
  }

  async tradeOf(biz: Biz): Promise<Trade | undefined> {
    const t =
      typeof biz.out_trade_no === 'string'
        ? await this.d.store.tradeByOutTradeNo(this.d.appId, biz.out_trade_no)
        : typeof biz.trade_no === 'string'
          ? await this.d.store.trade(biz.trade_no)
          : undefined;
    // Alipay knows a QR or cashier trade only once the payer has opened it.
    return t && t.app_id === this.d.appId && t.seen ? t : undefined;
  }

  async query(biz: Biz): Promise<GatewayResponse> {
    const t = await this.tradeOf(biz);
    if (!t) return businessFailed('ACQ.TRADE_NOT_EXIST', '交易不存在');
    return success({
      ...this.tradeFields(t),
      trade_status: t.status,
      ...(t.paid_at ? { send_pay_date: beijingTime(new Date(t.paid_at)), receipt_amount: fenToYuan(t.total_fen) } : {}),
    });
  }

  async close(biz: Biz): Promise<GatewayResponse> {
    const t = await this.tradeOf(biz);
    if (!t) {
      // A trade the payer never opened is gone for good: its QR can no longer be paid.
      const unseen =
        typeof biz.out_trade_no === 'string'
          ? await this.d.store.tradeByOutTradeNo(this.d.appId, biz.out_trade_no)
          : undefined;
      if (unseen) await this.d.store.close(unseen.trade_no, this.d.clock.now().toISOString());
      return businessFailed('ACQ.TRADE_NOT_EXIST', '交易不存在');
    }
    if (!(await this.d.store.close(t.trade_no, this.d.clock.now().toISOString()))) {
      return businessFailed('ACQ.TRADE_STATUS_ERROR', '交易状态不合法');
    }
    return success({ trade_no: t.trade_no, out_trade_no: t.out_trade_no });
  }

  async refund(biz: Biz): Promise<GatewayResponse> {
    const t = await this.tradeOf(biz);
    if (!t) return businessFailed('ACQ.TRADE_NOT_EXIST', '交易不存在');
    const outRequestNo =
      typeof biz.out_request_no === 'string' && biz.out_request_no ? biz.out_request_no : t.out_trade_no;
    if (!isOutTradeNo(outRequestNo)) return businessFailed('ACQ.INVALID_PARAMETER', 'out_request_no 不合法');
    const amount = yuanToFen(biz.refund_amount);
    if (amount === undefined || amount < 1) return businessFailed('ACQ.INVALID_PARAMETER', 'refund_amount 不合法');
    const answer = async (fundChange: 'Y' | 'N') => {
      const after = (await this.d.store.trade(t.trade_no))!;
      const r = await this.d.store.refund(t.trade_no, outRequestNo);
      return success({
        ...this.tradeFields(after),
        fund_change: fundChange,
        refund_fee: fenToYuan(after.refunded_fen),
        ...(r ? { gmt_refund_pay: beijingTime(new Date(r.at)) } : {}),
      });
    };
    const before = await this.d.store.refund(t.trade_no, outRequestNo);
    if (before) {
      // The same out_request_no again: the refund it made, no new money (Alipay's idempotence).
      return before.amount_fen === amount
        ? answer('N')
        : businessFailed('ACQ.INVALID_PARAMETER', '同一 out_request_no 的退款金额不一致');
    }
    if (t.status !== 'TRADE_SUCCESS') return businessFailed('ACQ.TRADE_STATUS_ERROR', '交易状态不合法');
    if (t.refunded_fen + amount > t.total_fen) return businessFailed('ACQ.REFUND_AMT_NOT_EQUAL_TOTAL', '退款金额超限');
    if (!(await this.d.store.addRefund(t, outRequestNo, amount, this.d.clock.now().toISOString()))) {
      // Another refund of this trade went first: Alipay answers a system error to retry (20000).
      return { code: '20000', msg: 'Service Currently Unavailable', sub_code: 'ACQ.SYSTEM_ERROR', sub_msg: '系统繁忙' };
    }
    return answer('Y');
  }

  async refundQuery(biz: Biz): Promise<GatewayResponse> {
    const t = await this.tradeOf(biz);
    if (!t) return businessFailed('ACQ.TRADE_NOT_EXIST', '交易不存在');
    const outRequestNo = typeof biz.out_request_no === 'string' ? biz.out_request_no : '';
    const r = await this.d.store.refund(t.trade_no, outRequestNo);
    if (!r) return success({ trade_no: t.trade_no, out_trade_no: t.out_trade_no });
    return success({
      trade_no: t.trade_no,
      out_trade_no: t.out_trade_no,
      out_request_no: r.out_request_no,
      total_amount: fenToYuan(t.total_fen),
      refund_amount: fenToYuan(r.amount_fen),
      refund_status: 'REFUND_SUCCESS',
      gmt_refund_pay: beijingTime(new Date(r.at)),
    });
  }

  async unsign(biz: Biz): Promise<GatewayResponse> {
    const no = typeof biz.agreement_no === 'string' ? biz.agreement_no : '';
    const a = no ? await this.d.store.agreement(this.d.appId, no) : undefined;
    if (!a) return businessFailed('USER_AGREEMENT_NOT_EXIST', '用户协议不存在');
    const at = this.d.clock.now();
    const notice = a.notify_url ? this.agreementNotice(a, 'dut_user_unsign', at) : undefined;
    if (!(await this.d.store.unsign(a.agreement_no, at.toISOString(), notice))) {
      return businessFailed('USER_AGREEMENT_ALREADY_UNSIGN', '用户协议已解约');
    }
    return success({});
  }

  agreementNotice(a: Agreement, type: 'dut_user_sign' | 'dut_user_unsign', at: Date) {
    return this.d.notifier.build(a.notify_url!, type, {
      agreement_no: a.agreement_no,
      external_agreement_no: a.external_agreement_no,
      personal_product_code: 'GENERAL_WITHHOLDING_P',
      sign_scene: a.sign_scene,
      status: type === 'dut_user_sign' ? 'NORMAL' : 'UNSIGN',
      alipay_logon_id: DEV_BUYER,
      ...(type === 'dut_user_sign'
        ? { sign_time: beijingTime(at), valid_time: beijingTime(at) }
        : { invalid_time: beijingTime(at) }),
    });
  }

  /** Closes every waiting trade past its `time_expire`, telling the merchant of those the payer had opened. */
  async closeExpired(): Promise<void> {
    const now = this.d.clock.now();
    for (const t of await this.d.store.expiredTrades(now.toISOString())) {
      const closed = { ...t, status: 'TRADE_CLOSED', closed_at: now.toISOString() };
      const notice = t.seen && t.notify_url ? this.tradeNotice(closed, t.notify_url) : undefined;
      await this.d.store.close(t.trade_no, now.toISOString(), notice);
    }
  }

  /**
   * The payer pays a waiting trade (at the cashier or the scan page), and with `sign` also signs the
   * agreement the merchant asked for, holding `balanceFen` for later charges. Notifications are queued in
   * the same transaction. Answers the paid trade, or why not.
   */
  async payerPays(tradeNo: string, sign?: { balanceFen: number }): Promise<Trade | string> {
    await this.closeExpired();
    const t = await this.d.store.trade(tradeNo);
    if (!t || t.status !== 'WAIT_BUYER_PAY')
      return t?.status === 'TRADE_SUCCESS' ? '这笔交易已经付过了 / Already paid' : '交易已关闭 / The trade is closed';
    const at = this.d.clock.now();
    const paid: Trade = {
      ...t,
      status: 'TRADE_SUCCESS',
      paid_at: at.toISOString(),
      buyer_logon_id: DEV_BUYER,
      seen: 1,
    };
    const notices = t.notify_url ? [this.tradeNotice(paid, t.notify_url)] : [];
    let agreement: Agreement | undefined;
    if (sign && t.agreement_sign) {
      const asked = JSON.parse(t.agreement_sign) as Biz;
      agreement = {
        agreement_no: `2026${this.d.random.code()}${this.d.random.code()}${this.d.random.code()}`,
        app_id: t.app_id,
        external_agreement_no: String(asked.external_agreement_no),
        sign_scene: String(asked.sign_scene ?? 'DEFAULT|DEFAULT'),
        status: 'NORMAL',
        balance_fen: sign.balanceFen,
        notify_url: typeof asked.sign_notify_url === 'string' ? asked.sign_notify_url : t.notify_url,
        signed_at: at.toISOString(),
        unsigned_at: null,
      };
      if (agreement.notify_url) notices.push(this.agreementNotice(agreement, 'dut_user_sign', at));
    }
    if (!(await this.d.store.pay(t.trade_no, at.toISOString(), DEV_BUYER, notices, agreement)))
      return '交易已关闭 / The trade is closed';
    return paid;
  }

  async billUrl(biz: Biz): Promise<GatewayResponse> {
    if (biz.bill_type !== 'trade') return businessFailed('isp.bill_type_not_support', '仅支持 trade 账单');
    const day = typeof biz.bill_date === 'string' ? biz.bill_date : '';
    const today = beijingTime(this.d.clock.now()).slice(0, 10);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return invalidArguments('isv.invalid-parameter', 'bill_date 须为 yyyy-MM-dd');
    // Alipay makes a day's bill after the day ends (Beijing time).
    if (day >= today) return businessFailed('isp.bill_not_exist', '账单不存在');
    const token = this.d.random.token('').replace(/[^A-Za-z0-9]/g, '');
    const expires = new Date(this.d.clock.now().getTime() + 30_000).toISOString();
    await this.d.store.addBillLink({ token, app_id: this.d.appId, day, expires_at: expires });
    return success({ bill_download_url: `${this.d.publicUrl}/dev/alipay/bills/${token}` });
  }

  /** The bill file behind a download link (valid 30 s, as Alipay's), or undefined. */
  async billFile(token: string): Promise<{ name: string; zip: Buffer } | undefined> {
    const link = await this.d.store.billLink(token);
    if (!link || link.expires_at < this.d.clock.now().toISOString()) return undefined;
    const from = new Date(`${link.day}T00:00:00+08:00`);
    const to = new Date(from.getTime() + 86_400_000);
    const { paid, refunds } = await this.d.store.dayActivity(link.app_id, from.toISOString(), to.toISOString());
    const bj = (iso: string) => beijingTime(new Date(iso));
    const rows: BillRow[] = [
      ...paid.map((t) => ({
        tradeNo: t.trade_no,
        outTradeNo: t.out_trade_no,
        kind: '交易' as const,
        subject: t.subject,
        createdAt: bj(t.created_at),
        finishedAt: bj(t.paid_at!),
        payer: DEV_BUYER,
        amount: fenToYuan(t.total_fen),
        refundNo: '',
      })),
      ...refunds.map((r) => ({
        tradeNo: r.trade_no,
        outTradeNo: r.out_trade_no,
        kind: '退款' as const,
        subject: r.subject,
        createdAt: bj(r.created_at),
        finishedAt: bj(r.at),
        payer: DEV_BUYER,
        amount: `-${fenToYuan(r.amount_fen)}`,
        refundNo: r.out_request_no,
      })),
    ];
    const compact = link.day.replaceAll('-', '');
    const csv = billCsv(link.app_id, link.day, rows, bj(this.d.clock.now().toISOString()));
    const name = `${link.app_id}_${compact}.csv.zip`;
    return { name, zip: zip([{ name: `${link.app_id}_${compact}_业务明细.csv`, data: encodeGbk(csv) }]) };
  }
}

/** One OpenAPI method's business rules, given the call's `biz_content` and its `notify_url`. */
type GatewayMethod = (s: DevAlipayService, biz: Biz, notifyUrl: string | undefined) => Promise<GatewayResponse>;

/** The OpenAPI methods this gateway answers, by name; any other is `isv.invalid-method`, as Alipay answers. */
const GATEWAY_METHODS = new Map<string, GatewayMethod>([
  ['alipay.trade.precreate', (s, biz, notifyUrl) => s.precreate(biz, notifyUrl)],
  ['alipay.trade.pay', (s, biz, notifyUrl) => s.withhold(biz, notifyUrl)],
  ['alipay.trade.query', (s, biz) => s.query(biz)],
  ['alipay.trade.close', (s, biz) => s.close(biz)],
  ['alipay.trade.refund', (s, biz) => s.refund(biz)],
  ['alipay.trade.fastpay.refund.query', (s, biz) => s.refundQuery(biz)],
  ['alipay.user.agreement.unsign', (s, biz) => s.unsign(biz)],
  ['alipay.data.dataservice.bill.downloadurl.query', (s, biz) => s.billUrl(biz)],
]);

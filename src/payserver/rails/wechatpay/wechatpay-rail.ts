/**
 * The WeChat Pay rail: API v3 through the official-ecosystem `wechatpay-axios-plugin` in public-key mode.
 * The plugin signs every request (`WECHATPAY2-SHA256-RSA2048`) with the merchant's key and verifies every
 * answer with WeChat Pay's public key named by `Wechatpay-Serial`; this module only speaks the protocol's
 * JSON and maps answers to the seam's outcomes (answers.ts). It holds no state of tvpay's.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { Wechatpay } from 'wechatpay-axios-plugin';
import type { Clock } from '../../../lib/clock.ts';
import type {
  BillOutcome,
  CloseOutcome,
  NotificationVerdict,
  QueryOutcome,
  Rail,
  RawNotification,
  RefundOutcome,
  RefundRequest,
  StartOutcome,
  StartRequest,
  TradeTerms,
} from '../rail.ts';
import {
  classifyFailure,
  queryFailureOf,
  queryOutcomeOf,
  refundFailureOf,
  refundOutcomeOf,
  startFailureOf,
  type WxRefund,
  type WxTransaction,
} from './answers.ts';
import { parseTradeBill } from './bill.ts';
import { verifyNotification } from './notification.ts';
import { isWechatAmount, isWechatOutTradeNo, toWechatTime } from './wire.ts';

export interface WechatpayRailOptions {
  /** `dev`: the development WeChat Pay (no real money); `live`: `https://api.mch.weixin.qq.com/`. */
  mode: 'dev' | 'live';
  mchId: string;
  /** The app id payments (and papay contracts) are made under. */
  appId: string;
  /** The serial number of the merchant's API certificate (40 hex). */
  mchSerial: string;
  privateKeyPem: string;
  /** WeChat Pay's public key id (`PUB_KEY_ID_…`): what its answers' `Wechatpay-Serial` names. */
  publicKeyId: string;
  publicKeyPem: string;
  /** The 32-byte API v3 key that decrypts notifications' `resource`. */
  apiV3Key: string;
  /** API v3 base, ending in `/` (`https://api.mch.weixin.qq.com/`, or `<carrier>/dev/wechatpay/`). */
  baseUrl: string;
  /** Where WeChat Pay sends payment, refund and contract notifications. */
  notifyUrl: string;
  /** The papay (委托代扣) template id; without it the rail takes no agreements. */
  planId?: string;
  /** Each call's time-out (10 s unless given). */
  timeoutMs?: number;
  /** Judges notifications' `Wechatpay-Timestamp` and dates refunds without a `success_time`. */
  clock: Clock;
}

/** An answer is read up to 64 KiB (a bill download up to 4 MiB): a gigabyte costs a call, not the process. */
const MAX_ANSWER_BYTES = 64 * 1024;
const MAX_BILL_BYTES = 4 * 1024 * 1024;
const OUT_REFUND_NO = /^[A-Za-z0-9_\-|*@]{1,64}$/;

type Client = InstanceType<typeof Wechatpay>;

function paramError(message: string): StartOutcome {
  return { state: 'failed', code: 'RAIL_REFUSED', providerCode: 'PARAM_ERROR', message };
}

/** Why tvpay must not send these terms (WeChat Pay would refuse them), or `undefined`. */
export function termsProblem(t: TradeTerms): string | undefined {
  if (!isWechatOutTradeNo(t.outTradeNo)) return 'out_trade_no must be 6-32 of letters, digits, _ - | *';
  if (!isWechatAmount(t.amountMinor)) return 'amount.total must be a positive integer number of fen';
  if (t.currency !== 'CNY') return 'currency must be CNY';
  if (t.subject.length < 1 || t.subject.length > 127) return 'description must be 1-127 characters';
  if (Number.isNaN(t.expiresAt.getTime())) return 'time_expire must be a valid time';
  return undefined;
}

/** Masks a phone for `contract_display_account`: the payer sees which number, nobody reads it whole. */
function maskPhone(phone: string): string {
  const digits = phone.replace(/\D/g, '');
  return digits.length >= 7 ? `${digits.slice(-11, -8) || digits.slice(0, 3)}****${digits.slice(-4)}` : '****';
}

/**
 * The WeChat Pay rail. Each method is one API v3 call (two for a redirect that also signs) and a mapping
 * of its answer; nothing is kept between calls but the plugin's client.
 */
class WechatpayRail implements Rail {
  readonly name = 'wechatpay' as const;
  readonly title = { 'zh-CN': '微信支付', en: 'WeChat Pay' };
  readonly mode: 'dev' | 'live';
  /** WeChat Pay's `out_refund_no` takes tvpay's refund ids as they are (letters, digits, `_`, `-`, `|`, `*`, `@`). */
  outRefundNoOf(refundId: string): string {
    return refundId;
  }
  readonly agreements: boolean;
  private readonly wx: Client;
  private readonly publicKeys: Record<string, KeyObject>;

  constructor(private readonly options: WechatpayRailOptions) {
    this.mode = options.mode;
    this.agreements = Boolean(options.planId);
    this.wx = new Wechatpay({
      mchid: options.mchId,
      serial: options.mchSerial,
      privateKey: options.privateKeyPem,
      certs: { [options.publicKeyId]: options.publicKeyPem },
      baseURL: options.baseUrl,
      timeout: options.timeoutMs ?? 10_000,
      maxContentLength: MAX_ANSWER_BYTES,
    });
    this.publicKeys = { [options.publicKeyId]: createPublicKey(options.publicKeyPem) };
  }

  /** A JSON call by its API v3 path; the answer's body is untyped JSON until mapped. */
  private post(path: string, body: object): Promise<{ data: any }> {
    return this.wx.chain(path).post<any>(body);
  }

  private get(path: string, config: object = {}): Promise<{ data: any }> {
    return this.wx.chain(path).get(config);
  }

  private orderBody(t: TradeTerms): Record<string, unknown> {
    return {
      appid: this.options.appId,
      mchid: this.options.mchId,
      description: t.subject,
      out_trade_no: t.outTradeNo,
      time_expire: toWechatTime(t.expiresAt),
      notify_url: this.options.notifyUrl,
      amount: { total: t.amountMinor, currency: 'CNY' },
    };
  }

  private async startRedirect(r: Extract<StartRequest, { kind: 'redirect' }>): Promise<StartOutcome> {
    let back = r.returnUrl;
    if (r.sign) {
      if (!this.options.planId) return paramError('WeChat Pay takes no agreements without a papay plan id');
      if (!/^[A-Za-z0-9]{1,32}$/.test(r.sign.externalAgreementNo)) {
        return paramError('out_contract_code must be 1-32 letters and digits');
      }
      // 委托代扣 pre-sign (H5): WeChat Pay answers the signing page the payer goes to after paying.
      const { data } = await this.post('v3/papay/sign/contracts/pre-entrust-sign/h5', {
        appid: this.options.appId,
        plan_id: Number(this.options.planId),
        out_contract_code: r.sign.externalAgreementNo,
        contract_display_account: maskPhone(r.sign.phone),
        contract_notify_url: this.options.notifyUrl,
        return_url: r.returnUrl,
      });
      if (typeof data?.redirect_url !== 'string') return { state: 'unknown', reason: 'pre-sign without redirect_url' };
      back = data.redirect_url;
    }
    const { data } = await this.post('v3/pay/transactions/h5', {
      ...this.orderBody(r),
      scene_info: { payer_client_ip: r.payerClientIp, h5_info: { type: 'Wap' } },
    });
    if (typeof data?.h5_url !== 'string') return { state: 'unknown', reason: 'h5 order without h5_url' };
    const sep = data.h5_url.includes('?') ? '&' : '?';
    return { state: 'redirect', url: `${data.h5_url}${sep}redirect_url=${encodeURIComponent(back)}` };
  }

  async start(request: StartRequest): Promise<StartOutcome> {
    const problem = termsProblem(request);
    if (problem) return paramError(problem);
    try {
      if (request.kind === 'qr') {
        const { data } = await this.post('v3/pay/transactions/native', this.orderBody(request));
        if (typeof data?.code_url !== 'string') return { state: 'unknown', reason: 'native order without code_url' };
        return { state: 'qr', qrText: data.code_url };
      }
      if (request.kind === 'redirect') return await this.startRedirect(request);
      const { mchid: _mchid, time_expire: _expire, notify_url: notifyUrl, ...rest } = this.orderBody(request);
      await this.post('v3/papay/pay/transactions/apply', {
        ...rest,
        transaction_notify_url: notifyUrl,
        contract_id: request.agreementNo,
      });
      return { state: 'charging' };
    } catch (err) {
      return startFailureOf(err);
    }
  }

  async query(outTradeNo: string): Promise<QueryOutcome> {
    if (!isWechatOutTradeNo(outTradeNo)) return { state: 'not_found' };
    try {
      const { data } = await this.get(`v3/pay/transactions/out-trade-no/${outTradeNo}`, {
        params: { mchid: this.options.mchId },
      });
      const t = (data ?? {}) as WxTransaction;
      if (t.out_trade_no !== outTradeNo) return { state: 'unknown', reason: 'answer for another out_trade_no' };
      return queryOutcomeOf(t);
    } catch (err) {
      return queryFailureOf(err);
    }
  }

  async close(outTradeNo: string): Promise<CloseOutcome> {
    if (!isWechatOutTradeNo(outTradeNo)) return { state: 'closed' };
    try {
      await this.post(`v3/pay/transactions/out-trade-no/${outTradeNo}/close`, { mchid: this.options.mchId });
      return { state: 'closed' };
    } catch (err) {
      const f = classifyFailure(err);
      if (f.kind === 'unknown') return { state: 'unknown', reason: f.reason };
      if (f.code === 'ORDERPAID') return { state: 'paid' };
      if (f.code === 'ORDER_NOT_EXIST' || f.code === 'ORDERCLOSED') return { state: 'closed' };
      return { state: 'unknown', reason: `${f.code}: ${f.message}` };
    }
  }

  async refund(r: RefundRequest): Promise<RefundOutcome> {
    if (!isWechatOutTradeNo(r.outTradeNo) || !OUT_REFUND_NO.test(r.outRefundNo)) {
      return { state: 'failed', code: 'RAIL_REFUSED', providerCode: 'PARAM_ERROR', message: 'bad trade or refund no' };
    }
    if (!isWechatAmount(r.refundMinor) || !isWechatAmount(r.totalMinor) || r.refundMinor > r.totalMinor) {
      return { state: 'failed', code: 'RAIL_REFUSED', providerCode: 'PARAM_ERROR', message: 'bad refund amount' };
    }
    try {
      const { data } = await this.post('v3/refund/domestic/refunds', {
        out_trade_no: r.outTradeNo,
        out_refund_no: r.outRefundNo,
        reason: r.reason.slice(0, 80),
        notify_url: this.options.notifyUrl,
        amount: { refund: r.refundMinor, total: r.totalMinor, currency: 'CNY' },
      });
      const answer = (data ?? {}) as WxRefund;
      if (answer.out_refund_no !== r.outRefundNo) return { state: 'unknown', reason: 'answer for another refund' };
      return refundOutcomeOf(answer, this.options.clock.now());
    } catch (err) {
      return refundFailureOf(err);
    }
  }

  async queryRefund(outTradeNo: string, outRefundNo: string): Promise<RefundOutcome> {
    if (!OUT_REFUND_NO.test(outRefundNo)) return { state: 'unknown', reason: 'bad out_refund_no' };
    try {
      const { data } = await this.get(`v3/refund/domestic/refunds/${outRefundNo}`);
      const answer = (data ?? {}) as WxRefund;
      if (answer.out_trade_no !== outTradeNo) return { state: 'unknown', reason: 'refund of another trade' };
      return refundOutcomeOf(answer, this.options.clock.now());
    } catch (err) {
      const f = classifyFailure(err);
      if (f.kind === 'refused' && f.status === 404) {
        return { state: 'failed', code: 'RAIL_REFUSED', providerCode: f.code, message: 'no such refund' };
      }
      return refundFailureOf(err);
    }
  }

  async unsign(a: { externalAgreementNo: string; agreementNo: string }): Promise<{ state: 'ended' | 'unknown' }> {
    try {
      await this.post(`v3/papay/contracts/${encodeURIComponent(a.agreementNo)}/terminate`, {
        appid: this.options.appId,
        termination_note: 'ended at tvpay',
      });
      return { state: 'ended' };
    } catch (err) {
      const f = classifyFailure(err);
      const gone = f.kind === 'refused' && (f.code === 'CONTRACT_NOT_EXIST' || f.code === 'CONTRACT_TERMINATED');
      return { state: gone ? 'ended' : 'unknown' };
    }
  }

  async bill(day: string): Promise<BillOutcome> {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return { state: 'unavailable', reason: 'day must be YYYY-MM-DD' };
    try {
      const { data } = await this.get('v3/bill/tradebill', { params: { bill_date: day, bill_type: 'ALL' } });
      const url = new URL(String(data?.download_url));
      // The download is the one answer WeChat Pay does not sign; its SHA1 (in the signed answer) vouches.
      const file = await this.get('v3/billdownload/file', {
        params: Object.fromEntries(url.searchParams),
        responseType: 'arraybuffer',
        maxContentLength: MAX_BILL_BYTES,
      });
      const bytes = Buffer.from(file.data as ArrayBuffer);
      if (data.hash_type !== 'SHA1' || createHash('sha1').update(bytes).digest('hex') !== data.hash_value) {
        return { state: 'unavailable', reason: 'bill does not match its SHA1 hash_value' };
      }
      return { state: 'ok', lines: parseTradeBill(bytes.toString('utf8')) };
    } catch (err) {
      const f = classifyFailure(err);
      return { state: 'unavailable', reason: f.kind === 'refused' ? f.code : f.kind === 'unknown' ? f.reason : '' };
    }
  }

  async parseNotification(raw: RawNotification): Promise<NotificationVerdict> {
    return verifyNotification(raw, {
      mchId: this.options.mchId,
      appId: this.options.appId,
      publicKeys: this.publicKeys,
      apiV3Key: this.options.apiV3Key,
      now: () => this.options.clock.now(),
    });
  }
}

/** Builds the WeChat Pay rail. */
export function createWechatpayRail(options: WechatpayRailOptions): Rail {
  return new WechatpayRail(options);
}

import { AlipaySdk, type AlipaySdkConfig } from 'alipay-sdk';
import { Agent } from 'urllib';
import { systemClock, type Clock } from '../../../lib/clock.ts';
import type * as Seam from '../rail.ts';
import { assertOutTradeNo, beijingTime, fenToYuan, outRequestNoOf, parseBeijingTime } from './amounts.ts';
import {
  queryOutcomeOf,
  refusal,
  refundQueryOutcomeOf,
  startOutcomeOfPay,
  verdictOf,
  type AlipayAnswer,
} from './answers.ts';
import { downloadBill } from './bill-download.ts';
import { parseNotification } from './notification.ts';

export interface AlipayRailOptions {
  /** `dev`: the development Alipay (src/dev-rails/alipay); `live`: Alipay's own gateway. */
  mode: 'dev' | 'live';
  appId: string;
  /** The app's RSA private key, PEM, PKCS#1 (`RSA PRIVATE KEY`) or PKCS#8 (`PRIVATE KEY`). */
  privateKeyPem: string;
  /** Alipay's public key (public-key mode), PEM: every answer and notification is verified with it. */
  alipayPublicKeyPem: string;
  /** The OpenAPI 2.0 gateway, e.g. Alipay's `…/gateway.do` or the development one. */
  gateway: string;
  /** Where Alipay posts notifications (`TVPAY_PAYSERVER_PUBLIC_URL` + `/v1/rails/alipay/notify`). */
  notifyUrl: string;
  /** Each gateway call's time-out (the SDK's `timeout`); 10 s unless told. */
  timeoutMs?: number;
  /** The agreement's `sign_scene` given to Alipay with the product (商家扣款); `INDUSTRY|DIGITAL_MEDIA` unless told. */
  signScene?: string;
  /** The most bytes a bill download may have (4 MiB unless told). */
  maxBillBytes?: number;
  clock?: Clock;
}

/** The agreement product tvpay signs: Alipay's personal withholding (商家扣款). */
const PERSONAL_PRODUCT_CODE = 'GENERAL_WITHHOLDING_P';

/**
 * The Alipay rail: OpenAPI 2.0 through Alipay's own SDK, which signs every request with the app key and,
 * with `validateSign: true`, refuses any answer not signed by Alipay's key. Amounts leave as yuan strings
 * and come back as fen; every answer becomes an outcome, never an exception.
 */
/** An HTTP dispatcher that gives up on an answer longer than 64 KiB (undici's `maxResponseSize`, through urllib). */
const answerCappedAgent = new Agent({ maxResponseSize: 64 * 1024 });

export function createAlipayRail(options: AlipayRailOptions): Seam.Rail {
  const clock = options.clock ?? systemClock;
  const sdk = new AlipaySdk({
    appId: options.appId,
    privateKey: options.privateKeyPem,
    alipayPublicKey: options.alipayPublicKeyPem,
    gateway: options.gateway,
    signType: 'RSA2',
    keyType: /BEGIN RSA PRIVATE KEY/.test(options.privateKeyPem) ? 'PKCS1' : 'PKCS8',
    timeout: options.timeoutMs ?? 10_000,
    camelcase: false,
    // Outbound answers are read up to 64 KiB (API "Hardening"): a gateway that answers without end costs an
    // unknown outcome, settled by query, never the process's memory. The SDK hands this dispatcher to urllib.
    proxyAgent: answerCappedAgent as unknown as AlipaySdkConfig['proxyAgent'],
  });
  const call = (method: string, bizContent: Record<string, unknown>, extra: Record<string, string> = {}) =>
    exec(sdk, method, bizContent, extra);
  const signScene = options.signScene ?? 'INDUSTRY|DIGITAL_MEDIA';

  const rail: Seam.Rail = {
    name: 'alipay',
    title: { 'zh-CN': '支付宝', en: 'Alipay' },
    mode: options.mode,
    agreements: true,
    outRefundNoOf: outRequestNoOf,
    start: (request) => start(sdk, call, options, signScene, request),
    async query(outTradeNo) {
      assertOutTradeNo(outTradeNo);
      const c = await call('alipay.trade.query', { out_trade_no: outTradeNo });
      return 'unknownReason' in c ? unknown(c) : queryOutcomeOf(c.answer);
    },
    close: (outTradeNo) => close(call, rail, outTradeNo),
    refund: (request) => refund(call, rail, clock, request),
    async queryRefund(outTradeNo, outRefundNo): Promise<Seam.RefundOutcome> {
      assertOutTradeNo(outTradeNo);
      const c = await call('alipay.trade.fastpay.refund.query', {
        out_trade_no: outTradeNo,
        out_request_no: outRequestNoOf(outRefundNo),
        query_options: ['gmt_refund_pay'],
      });
      return 'unknownReason' in c ? unknown(c) : refundQueryOutcomeOf(c.answer, clock.now());
    },
    async unsign({ externalAgreementNo, agreementNo }) {
      const c = await call('alipay.user.agreement.unsign', {
        agreement_no: agreementNo,
        external_agreement_no: externalAgreementNo,
        personal_product_code: PERSONAL_PRODUCT_CODE,
        sign_scene: signScene,
      });
      if ('unknownReason' in c) return { state: 'unknown' };
      const a = c.answer;
      const v = verdictOf(a);
      // An agreement Alipay no longer has (never signed, or already ended) is ended too.
      const gone = v.kind === 'refused' && /AGREEMENT_NOT_EXIST|AGREEMENT_INVALID|ALREADY_UNSIGN/.test(v.providerCode);
      return { state: v.kind === 'ok' || gone ? 'ended' : 'unknown' };
    },
    parseNotification: (raw: Seam.RawNotification): Promise<Seam.NotificationVerdict> =>
      Promise.resolve(parseNotification(sdk, options.appId, raw)),
    async bill(day): Promise<Seam.BillOutcome> {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new RangeError(`a bill day is YYYY-MM-DD, not ${day}`);
      const c = await call('alipay.data.dataservice.bill.downloadurl.query', { bill_type: 'trade', bill_date: day });
      if ('unknownReason' in c) return { state: 'unavailable', reason: c.unknownReason };
      const a = c.answer;
      const v = verdictOf(a);
      if (v.kind !== 'ok') return { state: 'unavailable', reason: v.kind === 'refused' ? v.providerCode : v.reason };
      const url = typeof a.bill_download_url === 'string' ? a.bill_download_url : '';
      if (!url) return { state: 'unavailable', reason: 'no bill_download_url in the answer' };
      return downloadBill(url, { timeoutMs: options.timeoutMs ?? 10_000, maxBytes: options.maxBillBytes ?? 4 << 20 });
    },
  };
  return rail;
}

/** What one call learnt: Alipay's signed answer, or why none was learnt. */
type Called = { answer: AlipayAnswer } | { unknownReason: string };

type Call = (method: string, bizContent: Record<string, unknown>, extra?: Record<string, string>) => Promise<Called>;

/**
 * One gateway call. The SDK throws for a network error, a time-out, a non-200, an unparsable answer and
 * an answer whose signature does not verify: in each the outcome was not learnt, so it is `unknown`.
 */
async function exec(
  sdk: AlipaySdk,
  method: string,
  bizContent: Record<string, unknown>,
  extra: Record<string, string>,
): Promise<Called> {
  try {
    return { answer: (await sdk.exec(method, { ...extra, bizContent }, { validateSign: true })) as AlipayAnswer };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // The SDK's messages quote the whole answer: keep only what says why.
    if (message.includes('验签失败')) return { unknownReason: `${method}: the answer's signature did not verify` };
    return { unknownReason: `${method}: ${message.slice(0, 160)}` };
  }
}

function unknown(a: { unknownReason: string }): { state: 'unknown'; reason: string } {
  return { state: 'unknown', reason: a.unknownReason };
}

function tradeContent(request: Seam.StartRequest): Record<string, unknown> {
  assertOutTradeNo(request.outTradeNo);
  if (request.currency !== 'CNY') throw new RangeError(`Alipay takes CNY only, not ${String(request.currency)}`);
  return {
    out_trade_no: request.outTradeNo,
    total_amount: fenToYuan(request.amountMinor),
    subject: request.subject,
    time_expire: beijingTime(request.expiresAt),
  };
}

async function start(
  sdk: AlipaySdk,
  call: Call,
  options: AlipayRailOptions,
  signScene: string,
  request: Seam.StartRequest,
): Promise<Seam.StartOutcome> {
  const content = tradeContent(request);
  if (request.kind === 'redirect') {
    const biz: Record<string, unknown> = { ...content, product_code: 'QUICK_WAP_WAY' };
    if (request.sign) {
      if (!/^[A-Za-z0-9]{1,32}$/.test(request.sign.externalAgreementNo)) {
        throw new RangeError('external_agreement_no must be 1 to 32 letters or digits');
      }
      biz.agreement_sign_params = {
        personal_product_code: PERSONAL_PRODUCT_CODE,
        sign_scene: signScene,
        external_agreement_no: request.sign.externalAgreementNo,
        sign_notify_url: options.notifyUrl,
        access_params: { channel: 'ALIPAYAPP' },
      };
    }
    const url = sdk.pageExecute('alipay.trade.wap.pay', 'GET', {
      bizContent: biz,
      returnUrl: request.returnUrl,
      notifyUrl: options.notifyUrl,
    });
    return { state: 'redirect', url };
  }
  const notify = { notify_url: options.notifyUrl };
  if (request.kind === 'qr') {
    const c = await call('alipay.trade.precreate', content, notify);
    if ('unknownReason' in c) return unknown(c);
    const a = c.answer;
    const v = verdictOf(a);
    if (v.kind === 'refused') return refusal(v);
    if (v.kind === 'unknown') return { state: 'unknown', reason: v.reason };
    const qrText = typeof a.qr_code === 'string' ? a.qr_code : '';
    return qrText ? { state: 'qr', qrText } : { state: 'unknown', reason: 'precreate answered without qr_code' };
  }
  const c = await call(
    'alipay.trade.pay',
    { ...content, product_code: 'GENERAL_WITHHOLDING', agreement_params: { agreement_no: request.agreementNo } },
    notify,
  );
  return 'unknownReason' in c ? unknown(c) : startOutcomeOfPay(c.answer);
}

/**
 * `alipay.trade.close`. A trade Alipay never created (an unscanned QR) can no longer take money either;
 * `ACQ.TRADE_STATUS_ERROR` says it is paid or closed already, which a query tells apart.
 */
async function close(call: Call, rail: Seam.Rail, outTradeNo: string): Promise<Seam.CloseOutcome> {
  assertOutTradeNo(outTradeNo);
  const c = await call('alipay.trade.close', { out_trade_no: outTradeNo });
  if ('unknownReason' in c) return unknown(c);
  const a = c.answer;
  const v = verdictOf(a);
  if (v.kind === 'ok' || (v.kind === 'refused' && v.providerCode === 'ACQ.TRADE_NOT_EXIST')) return { state: 'closed' };
  if (v.kind === 'refused' && v.providerCode === 'ACQ.TRADE_STATUS_ERROR') {
    const q: Seam.QueryOutcome = await rail.query(outTradeNo);
    if (q.state === 'paid' || q.state === 'refunded') return { state: 'paid' };
    if (q.state === 'closed' || q.state === 'not_found') return { state: 'closed' };
  }
  return { state: 'unknown', reason: v.kind === 'unknown' ? v.reason : `trade.close refused: ${v.providerCode}` };
}

/**
 * `alipay.trade.refund`, idempotent on `out_request_no`. `fund_change` `Y` says this call moved the money;
 * `N` is a repeat (or a refund still under way), which the refund query settles.
 */
async function refund(
  call: Call,
  rail: Seam.Rail,
  clock: Clock,
  request: Seam.RefundRequest,
): Promise<Seam.RefundOutcome> {
  assertOutTradeNo(request.outTradeNo);
  const c = await call('alipay.trade.refund', {
    out_trade_no: request.outTradeNo,
    refund_amount: fenToYuan(request.refundMinor),
    out_request_no: outRequestNoOf(request.outRefundNo),
    refund_reason: request.reason.slice(0, 256),
  });
  if ('unknownReason' in c) return unknown(c);
  const a = c.answer;
  const v = verdictOf(a);
  if (v.kind === 'refused') return refusal(v);
  if (v.kind === 'unknown') return { state: 'unknown', reason: v.reason };
  if (a.fund_change === 'Y') return { state: 'succeeded', at: parseBeijingTime(a.gmt_refund_pay) ?? clock.now() };
  return rail.queryRefund(request.outTradeNo, request.outRefundNo);
}

/**
 * WeChat Pay's notifications (API v3): signed with WeChat Pay's key over
 * `Wechatpay-Timestamp\nWechatpay-Nonce\n<raw body>\n`, the business data encrypted in `resource` with
 * AEAD_AES_256_GCM under the merchant's API v3 key. Verified, fresh, decrypted and matched to this
 * merchant before anything is believed.
 */
import type { KeyObject } from 'node:crypto';
import { Aes, Rsa } from 'wechatpay-axios-plugin';
import type { NotificationAnswer, NotificationVerdict, RailEvent, RawNotification } from '../rail.ts';
import { paidTradeOf, parseWxTime, type WxRefund, type WxTransaction } from './answers.ts';

/** WeChat Pay refuses requests more than 5 minutes off; tvpay refuses notifications the same way. */
export const MAX_NOTIFICATION_SKEW_S = 300;

export interface NotificationKeys {
  mchId: string;
  appId: string;
  /** WeChat Pay's public keys by id (`PUB_KEY_ID_…`), the id being what `Wechatpay-Serial` names. */
  publicKeys: Readonly<Record<string, KeyObject>>;
  apiV3Key: string;
  now(): Date;
}

/** The contract (委托代扣) resource of a `PAPAY.*` notification. */
interface WxContract {
  mchid?: string;
  appid?: string;
  out_contract_code?: string;
  contract_id?: string;
  change_type?: string;
  operate_time?: string;
}

const OK: NotificationAnswer = { status: 204, contentType: 'application/json', body: '' };

function refusal(status: number, reason: string): NotificationVerdict {
  const body = JSON.stringify({ code: 'FAIL', message: reason });
  return { ok: false, reason, answer: { status, contentType: 'application/json', body } };
}

function header(raw: RawNotification, name: string): string | undefined {
  const v = raw.headers[name.toLowerCase()] ?? raw.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Verifies, decrypts and parses one notification into an event, or a refusal that changes nothing. */
export function verifyNotification(raw: RawNotification, keys: NotificationKeys): NotificationVerdict {
  const [timestamp, nonce, signature, serial] = ['Timestamp', 'Nonce', 'Signature', 'Serial'].map((h) =>
    header(raw, `Wechatpay-${h}`),
  );
  if (!timestamp || !nonce || !signature || !serial) return refusal(401, 'missing Wechatpay-* headers');
  const key = Object.prototype.hasOwnProperty.call(keys.publicKeys, serial) ? keys.publicKeys[serial] : undefined;
  if (!key) return refusal(401, `unknown Wechatpay-Serial ${serial}`);
  const body = raw.body.toString('utf8');
  if (!Rsa.verify(`${timestamp}\n${nonce}\n${body}\n`, signature, key))
    return refusal(401, 'signature does not verify');
  const skew = Math.abs(Math.floor(keys.now().getTime() / 1000) - Number(timestamp));
  if (!/^\d{1,12}$/.test(timestamp) || skew > MAX_NOTIFICATION_SKEW_S) return refusal(400, 'stale Wechatpay-Timestamp');
  let envelope: { event_type?: string; resource?: Record<string, unknown> };
  let data: Record<string, unknown>;
  try {
    envelope = JSON.parse(body);
    const r = envelope.resource ?? {};
    if (r.algorithm !== 'AEAD_AES_256_GCM') return refusal(400, 'resource not AEAD_AES_256_GCM');
    const plain = Aes.AesGcm.decrypt(
      String(r.ciphertext),
      keys.apiV3Key,
      String(r.nonce),
      typeof r.associated_data === 'string' ? r.associated_data : '',
    );
    data = JSON.parse(plain);
  } catch {
    return refusal(400, 'resource does not decrypt');
  }
  const event = eventOf(String(envelope.event_type ?? ''), data, keys);
  return typeof event === 'string' ? refusal(400, event) : { ok: true, event, answer: OK };
}

/** The event a decrypted resource describes, or why it cannot be believed. */
export function eventOf(eventType: string, data: Record<string, unknown>, keys: NotificationKeys): RailEvent | string {
  if (data.mchid !== keys.mchId) return `mchid ${String(data.mchid)} is not this merchant's`;
  if (eventType.startsWith('TRANSACTION.')) {
    if (data.appid !== keys.appId) return `appid ${String(data.appid)} is not this merchant's`;
    return transactionEvent(data as WxTransaction);
  }
  if (eventType.startsWith('REFUND.')) return refundEvent(data as WxRefund, keys.now());
  if (eventType.startsWith('PAPAY.')) {
    if (data.appid !== keys.appId) return `appid ${String(data.appid)} is not this merchant's`;
    return contractEvent(data as WxContract);
  }
  return `event_type ${eventType} not handled`;
}

function transactionEvent(t: WxTransaction): RailEvent | string {
  if (t.trade_state === 'SUCCESS') {
    const paid = paidTradeOf(t);
    return paid ? { type: 'trade.paid', paid } : 'SUCCESS transaction without its payment details';
  }
  if ((t.trade_state === 'CLOSED' || t.trade_state === 'PAYERROR' || t.trade_state === 'REVOKED') && t.out_trade_no) {
    return { type: 'trade.closed', outTradeNo: t.out_trade_no };
  }
  return `trade_state ${String(t.trade_state)} not handled`;
}

function refundEvent(r: WxRefund, now: Date): RailEvent | string {
  if (!r.out_trade_no || !r.out_refund_no) return 'refund without its numbers';
  const status = r.refund_status ?? r.status;
  if (status === 'SUCCESS') {
    const refundMinor = r.amount?.refund;
    if (typeof refundMinor !== 'number' || !Number.isSafeInteger(refundMinor)) return 'refund without its amount';
    const at = parseWxTime(r.success_time) ?? now;
    return { type: 'refund.succeeded', outTradeNo: r.out_trade_no, outRefundNo: r.out_refund_no, refundMinor, at };
  }
  if (status === 'CLOSED' || status === 'ABNORMAL') {
    return { type: 'refund.failed', outTradeNo: r.out_trade_no, outRefundNo: r.out_refund_no, providerCode: status };
  }
  return `refund_status ${String(status)} not handled`;
}

function contractEvent(c: WxContract): RailEvent | string {
  const at = parseWxTime(c.operate_time);
  if (!c.out_contract_code || !c.contract_id || !at) return 'contract without its numbers or time';
  const ids = { externalAgreementNo: c.out_contract_code, agreementNo: c.contract_id, at };
  if (c.change_type === 'ADD') return { type: 'agreement.signed', ...ids };
  if (c.change_type === 'DELETE') return { type: 'agreement.ended', ...ids };
  return `change_type ${String(c.change_type)} not handled`;
}

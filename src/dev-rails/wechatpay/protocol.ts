/**
 * WeChat Pay's side of API v3's cryptography, as the development gateway plays it: it checks the
 * merchant's `WECHATPAY2-SHA256-RSA2048` request signatures with the merchant's public key, signs its
 * answers and notifications with its own private key (`Wechatpay-*` headers), and encrypts a
 * notification's `resource` with AEAD_AES_256_GCM under the API v3 key. It uses the plugin's primitives.
 */
import { Aes, Formatter, Rsa } from 'wechatpay-axios-plugin';
import type { DevWechatpayKeys } from './keys.ts';

/** A refusal as WeChat Pay sends it: an HTTP status and `{code, message}`. */
export interface WxError {
  status: number;
  code: string;
  message: string;
}

/** WeChat Pay refuses a request signed more than 5 minutes away from its own time. */
const MAX_SKEW_S = 300;

const AUTH = /^WECHATPAY2-SHA256-RSA2048\s+(.+)$/;

/** The fields of an `Authorization` header, or `undefined` if it is not WeChat Pay's scheme. */
export function parseAuthorization(header: string | undefined): Record<string, string> | undefined {
  const m = AUTH.exec(header ?? '');
  if (!m) return undefined;
  const fields: Record<string, string> = {};
  for (const part of m[1]!.matchAll(/(\w+)="([^"]*)"/g)) fields[part[1]!] = part[2]!;
  return fields;
}

/**
 * Verifies one request's signature over `METHOD\nURL\nTIMESTAMP\nNONCE\nBODY\n` (URL: path and query as
 * sent). The timestamp is judged against the wall clock, which is what the merchant's plugin signs with.
 */
export function verifyRequest(
  req: { method: string; url: string; body: string; authorization: string | undefined },
  keys: DevWechatpayKeys,
  wallSeconds: number,
): WxError | undefined {
  const auth = parseAuthorization(req.authorization);
  if (!auth?.signature || !auth.timestamp || !auth.nonce_str || !auth.serial_no || !auth.mchid) {
    return { status: 401, code: 'SIGN_ERROR', message: 'Authorization 缺失或格式错误 / missing or malformed' };
  }
  if (auth.mchid !== keys.mchId) return { status: 400, code: 'MCH_NOT_EXISTS', message: '商户号不存在' };
  if (auth.serial_no !== keys.mchSerial) {
    return { status: 401, code: 'SIGN_ERROR', message: '商户证书序列号有误 / unknown serial_no' };
  }
  if (Math.abs(wallSeconds - Number(auth.timestamp)) > MAX_SKEW_S) {
    return { status: 401, code: 'SIGN_ERROR', message: '请求时间戳过期 / timestamp expired' };
  }
  const message = Formatter.request(req.method, req.url, auth.timestamp, auth.nonce_str, req.body);
  if (!Rsa.verify(message, auth.signature, keys.merchantPublicKeyPem)) {
    return { status: 401, code: 'SIGN_ERROR', message: '签名错误 / signature does not verify' };
  }
  return undefined;
}

/** The `Wechatpay-*` headers that sign `body` at `timestamp` (seconds). */
export function signedHeaders(body: string, keys: DevWechatpayKeys, timestamp: number): Record<string, string> {
  const nonce = Formatter.nonce();
  return {
    'Wechatpay-Timestamp': String(timestamp),
    'Wechatpay-Nonce': nonce,
    'Wechatpay-Serial': keys.publicKeyId,
    'Wechatpay-Signature': Rsa.sign(Formatter.response(timestamp, nonce, body), keys.platformPrivateKeyPem),
  };
}

/** A notification's JSON body, its business data encrypted into `resource`. */
export function notificationBody(
  keys: DevWechatpayKeys,
  n: { id: string; createTime: string; eventType: string; summary: string; originalType: string; resource: object },
): string {
  const nonce = Formatter.nonce(12);
  const ciphertext = Aes.AesGcm.encrypt(JSON.stringify(n.resource), keys.apiV3Key, nonce, n.originalType);
  return JSON.stringify({
    id: n.id,
    create_time: n.createTime,
    resource_type: 'encrypt-resource',
    event_type: n.eventType,
    summary: n.summary,
    resource: {
      original_type: n.originalType,
      algorithm: 'AEAD_AES_256_GCM',
      ciphertext,
      associated_data: n.originalType,
      nonce,
    },
  });
}

import { readFileSync } from 'node:fs';
import type { AlipaySettings, WechatpaySettings } from '../../config/config.ts';
import { StartError } from '../../lib/start-error.ts';

/** What a `live` Alipay rail is built with: the gateway, the app and both keys, read from the named files. */
export interface AlipayLiveKeys {
  gateway: string;
  appId: string;
  privateKey: string;
  alipayPublicKey: string;
}

/** What a `live` WeChat Pay rail is built with (public-key mode). */
export interface WechatpayLiveKeys {
  baseUrl: string;
  mchId: string;
  appId: string;
  mchSerial: string;
  privateKey: string;
  publicKeyId: string;
  publicKey: string;
  apiV3Key: string;
  planId: string | undefined;
}

/** A variable a `live` rail cannot do without: its absence stops the start with its name. */
function required(value: string | undefined, variable: string, rail: string): string {
  if (!value) throw new StartError(`${variable} is required when ${rail}=live.`);
  return value;
}

/** A key file's text; an unreadable or empty file stops the start naming the variable (never the content). */
function keyFile(path: string | undefined, variable: string, rail: string): string {
  const file = required(path, variable, rail);
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new StartError(`${variable} names a file that cannot be read (${(err as NodeJS.ErrnoException).code}).`);
  }
  if (!text) throw new StartError(`${variable} names an empty file.`);
  return text;
}

/**
 * Reads the keys of a `live` Alipay from the files configured, or stops the start naming the missing or
 * unreadable variable: a payment server never starts half-configured to take real money.
 */
export function alipayLiveKeys(s: AlipaySettings): AlipayLiveKeys {
  return {
    gateway: s.gateway,
    appId: required(s.appId, 'TVPAY_ALIPAY_APP_ID', 'TVPAY_ALIPAY'),
    privateKey: keyFile(s.privateKeyFile, 'TVPAY_ALIPAY_PRIVATE_KEY_FILE', 'TVPAY_ALIPAY'),
    alipayPublicKey: keyFile(s.publicKeyFile, 'TVPAY_ALIPAY_PUBLIC_KEY_FILE', 'TVPAY_ALIPAY'),
  };
}

/** Reads the keys of a `live` WeChat Pay, or stops the start naming the variable; the API v3 key is 32 bytes. */
export function wechatpayLiveKeys(s: WechatpaySettings): WechatpayLiveKeys {
  const rail = 'TVPAY_WECHATPAY';
  const apiV3Key = keyFile(s.apiV3KeyFile, 'TVPAY_WECHATPAY_APIV3_KEY_FILE', rail);
  if (Buffer.byteLength(apiV3Key) !== 32)
    throw new StartError('TVPAY_WECHATPAY_APIV3_KEY_FILE must hold the 32-byte API v3 key.');
  return {
    baseUrl: s.baseUrl,
    mchId: required(s.mchId, 'TVPAY_WECHATPAY_MCH_ID', rail),
    appId: required(s.appId, 'TVPAY_WECHATPAY_APP_ID', rail),
    mchSerial: required(s.mchSerial, 'TVPAY_WECHATPAY_MCH_SERIAL', rail),
    privateKey: keyFile(s.privateKeyFile, 'TVPAY_WECHATPAY_PRIVATE_KEY_FILE', rail),
    publicKeyId: required(s.publicKeyId, 'TVPAY_WECHATPAY_PUBLIC_KEY_ID', rail),
    publicKey: keyFile(s.publicKeyFile, 'TVPAY_WECHATPAY_PUBLIC_KEY_FILE', rail),
    apiV3Key,
    planId: s.planId,
  };
}

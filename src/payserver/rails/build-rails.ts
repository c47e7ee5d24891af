import type { Config } from '../../config/config.ts';
import { ensureDevAlipayKeys } from '../../dev-rails/alipay/keys.ts';
import { PREFIX as DEV_ALIPAY_PREFIX } from '../../dev-rails/alipay/routes.ts';
import { ensureDevWechatpayKeys, type DevWechatpayKeys } from '../../dev-rails/wechatpay/keys.ts';
import { DEV_WECHATPAY_PREFIX } from '../../dev-rails/wechatpay/dev-wechatpay.ts';
import type { Clock } from '../../lib/clock.ts';
import { createAlipayRail } from './alipay/alipay-rail.ts';
import type { Rail } from './rail.ts';
import { alipayLiveKeys, wechatpayLiveKeys } from './rail-keys.ts';
import { createWechatpayRail, type WechatpayRailOptions } from './wechatpay/wechatpay-rail.ts';

/**
 * The rails that are on, built once at the payment server's start. Under `dev` a rail talks to the
 * development gateway on the carrier's server (its internal URL) with the keys that gateway generates into
 * the data dir; under `live` to the provider with the merchant's keys, and a missing or unreadable one stops
 * the start naming its variable. Nothing else differs between the two.
 */
export function buildRails(config: Readonly<Config>, clock: Clock): Rail[] {
  const rails: Rail[] = [];
  const notifyUrl = (rail: string) => `${config.publicUrls.payserver}/v1/rails/${rail}/notify`;
  const alipay = config.rails.alipay;
  if (alipay.mode === 'dev') {
    const keys = ensureDevAlipayKeys(config.dataDir);
    rails.push(
      createAlipayRail({
        mode: 'dev',
        appId: keys.appId,
        privateKeyPem: keys.appPrivateKeyPem,
        alipayPublicKeyPem: keys.alipayPublicKeyPem,
        gateway: `${config.internalUrls.carrier}${DEV_ALIPAY_PREFIX}/gateway.do`,
        notifyUrl: notifyUrl('alipay'),
        clock,
      }),
    );
  } else if (alipay.mode === 'live') {
    const keys = alipayLiveKeys(alipay);
    rails.push(
      createAlipayRail({
        mode: 'live',
        appId: keys.appId,
        privateKeyPem: keys.privateKey,
        alipayPublicKeyPem: keys.alipayPublicKey,
        gateway: keys.gateway,
        notifyUrl: notifyUrl('alipay'),
        clock,
      }),
    );
  }
  const wechatpay = buildWechatpay(config, clock, notifyUrl('wechatpay'));
  if (wechatpay) rails.push(wechatpay);
  return rails;
}

function buildWechatpay(config: Readonly<Config>, clock: Clock, notifyUrl: string): Rail | undefined {
  const settings = config.rails.wechatpay;
  if (settings.mode === 'dev') {
    const baseUrl = `${config.internalUrls.carrier}${DEV_WECHATPAY_PREFIX}/`;
    return createWechatpayRail(
      devWechatpayOptions(ensureDevWechatpayKeys(config.dataDir), { baseUrl, notifyUrl }, clock),
    );
  }
  if (settings.mode !== 'live') return undefined;
  const keys = wechatpayLiveKeys(settings);
  return createWechatpayRail({
    mode: 'live',
    mchId: keys.mchId,
    appId: keys.appId,
    mchSerial: keys.mchSerial,
    privateKeyPem: keys.privateKey,
    publicKeyId: keys.publicKeyId,
    publicKeyPem: keys.publicKey,
    apiV3Key: keys.apiV3Key,
    baseUrl: keys.baseUrl.endsWith('/') ? keys.baseUrl : `${keys.baseUrl}/`,
    notifyUrl,
    planId: keys.planId,
    clock,
  });
}

/** The WeChat Pay rail's options against a development WeChat Pay at `baseUrl`, with the keys it generated. */
export function devWechatpayOptions(
  keys: DevWechatpayKeys,
  urls: { baseUrl: string; notifyUrl: string },
  clock: Clock,
): WechatpayRailOptions {
  return {
    mode: 'dev',
    mchId: keys.mchId,
    appId: keys.appId,
    mchSerial: keys.mchSerial,
    privateKeyPem: keys.merchantPrivateKeyPem,
    publicKeyId: keys.publicKeyId,
    publicKeyPem: keys.platformPublicKeyPem,
    apiV3Key: keys.apiV3Key,
    baseUrl: urls.baseUrl,
    notifyUrl: urls.notifyUrl,
    planId: keys.planId,
    clock,
  };
}

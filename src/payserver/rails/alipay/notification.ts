import type { AlipaySdk } from 'alipay-sdk';
import type { NotificationAnswer, NotificationVerdict, RawNotification } from '../rail.ts';
import { eventOfNotification } from './answers.ts';

/** Alipay stops retrying when the body is exactly `success`; anything else is retried (4m, 10m, … 15h). */
const SUCCESS: NotificationAnswer = { status: 200, contentType: 'text/plain; charset=utf-8', body: 'success' };
const FAIL: NotificationAnswer = { status: 200, contentType: 'text/plain; charset=utf-8', body: 'fail' };

/** The form params exactly as posted (values percent-decoded once, as the SDK's `checkNotifySignV2` wants). */
export function formParams(raw: RawNotification): Record<string, string> | string {
  const type = String([raw.headers['content-type'] ?? ''].flat()[0]).toLowerCase();
  if (!type.startsWith('application/x-www-form-urlencoded')) return `content-type ${type || '(none)'} is not a form`;
  const charset = /charset=([^;\s]+)/.exec(type)?.[1];
  if (charset && charset.replace(/"/g, '') !== 'utf-8') return `charset ${charset} is not utf-8`;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw.body);
  } catch {
    return 'the body is not UTF-8';
  }
  const params: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(text)) {
    if (k in params) return `the field ${k} is given twice`;
    params[k] = v;
  }
  return params;
}

/**
 * Verifies and reads one notification. The signature comes first (Alipay's key, through the SDK), then
 * the app id; only then is anything read. Alipay's documentation sets no age limit on `notify_time` and
 * retries a notification for about 25 hours, so an old one is not refused: the caller applies each event
 * once. Matching `out_trade_no` and `total_amount` against the trade tvpay made is the caller's.
 */
export function parseNotification(sdk: AlipaySdk, appId: string, raw: RawNotification): NotificationVerdict {
  const params = formParams(raw);
  if (typeof params === 'string') return { ok: false, reason: params, answer: FAIL };
  if (!params.sign || !sdk.checkNotifySignV2(params)) {
    return { ok: false, reason: 'the signature does not verify with Alipay’s public key', answer: FAIL };
  }
  if (params.app_id !== appId) return { ok: false, reason: 'app_id is not this merchant’s', answer: FAIL };
  const event = eventOfNotification(params);
  if (typeof event === 'string') return { ok: false, reason: event, answer: FAIL };
  return { ok: true, event, answer: SUCCESS };
}

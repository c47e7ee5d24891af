import type { ConsoleLang, Words } from '../../lib/console/console-app.ts';
import {
  CHANNEL,
  DELIVERY_STATE,
  EVENT_TYPE,
  FAILURE,
  METHOD,
  money,
  ORDER_STATUS,
  RAIL_CALL,
  RAIL_OUTCOME,
  REFUND_STATUS,
  say,
  SMS_KIND,
  SMS_STATE,
  SOURCE,
} from '../../lib/console/console-words.ts';

/** An entry of `GET /admin/v1/orders/{orderId}/timeline`, with the fields the console reads. */
export interface TimelineItem {
  at: string;
  kind: string;
  summary: string;
  status?: string;
  failureCode?: string;
  amountMinor?: number;
  smsKind?: string;
  webhookId?: string;
  type?: string;
  method?: string;
  source?: string | null;
  phase?: string;
  channel?: string;
  subscriptionId?: string;
  reason?: string;
  paymentId?: string;
  [more: string]: unknown;
}

const w = (en: string, zh: string): Words => ({ en, 'zh-CN': zh });

const KIND: Record<string, Words> = {
  status: w('Status', '状态'),
  sms: w('SMS', '短信'),
  message: w('Message', '消息'),
  webhook: w('Webhook', '回调通知'),
  refund: w('Refund', '退款'),
  fulfilment: w('Provisioning', '开通'),
  payment: w('Payment', '支付'),
  rail: w('Rail', '支付渠道'),
};

const RESULT: Record<string, Words> = {
  applied: w('taken into account', '已处理'),
  ignored: w('already known, ignored', '重复或过时，已忽略'),
  rejected: w('refused', '已拒绝'),
};

/**
 * One line of an order's timeline for people: what kind of step and what happened, from the
 * entry's fields rather than its API summary. In English, a status line names the API's status
 * (`paid`, `fulfilled`, …) as the contract's accessible names promise; in Chinese, its words.
 */
export function timelineLine(e: TimelineItem, lang: ConsoleLang, currency: string): { kind: string; text: string } {
  const kind = KIND[e.kind]?.[lang] ?? e.kind;
  const t = (en: string, zh: string) => (lang === 'en' ? en : zh);
  const failure = e.failureCode
    ? t(` — ${say(FAILURE, e.failureCode, lang)}`, `：${say(FAILURE, e.failureCode, lang)}`)
    : '';
  const amount = typeof e.amountMinor === 'number' ? money(e.amountMinor, currency) : '';
  switch (e.kind) {
    case 'status': {
      const status = lang === 'en' ? (e.summary ?? '') : say(ORDER_STATUS, e.summary, lang);
      return { kind, text: `${status}${amount && e.summary === 'created' ? ` · ${amount}` : ''}${failure}` };
    }
    case 'sms':
      return { kind, text: smsText(e, lang) };
    case 'webhook': {
      const to = e.webhookId === 'fulfilment' ? t('the provisioning URL', '开通接口') : (e.webhookId ?? '');
      return {
        kind,
        text: t(
          `${say(EVENT_TYPE, e.type, lang)} to ${to}: ${say(DELIVERY_STATE, e.status, lang)}`,
          `${say(EVENT_TYPE, e.type, lang)} → ${to}：${say(DELIVERY_STATE, e.status, lang)}`,
        ),
      };
    }
    case 'refund':
      return { kind, text: refundText(e, lang, amount) + failure };
    case 'fulfilment':
      return { kind, text: say(FAILURE, e.failureCode ?? 'FULFILMENT_FAILED', lang) };
    case 'payment':
      return { kind, text: paymentText(e, lang, amount) + failure };
    case 'message':
      return { kind, text: messageText(e, lang) + failure };
    case 'rail':
      return { kind, text: railText(e, lang) };
    default:
      return { kind, text: e.summary };
  }
}

function smsText(e: TimelineItem, lang: ConsoleLang): string {
  const fromPayserver = / from the payment server/.test(e.summary);
  const what = say(SMS_KIND, e.smsKind, lang);
  const state = say(SMS_STATE, e.status, lang);
  if (lang === 'en') return `SMS ${what}${fromPayserver ? ' from the payment server' : ''}: ${state}`;
  return `${fromPayserver ? '支付服务器发送的' : ''}${what}短信：${state}`;
}

function refundText(e: TimelineItem, lang: ConsoleLang, amount: string): string {
  const late = e.paymentId && e.status === 'succeeded' && /^late payment/.test(e.summary);
  if (lang === 'en') {
    if (late) return `A late payment of ${amount} was refunded`;
    if (e.status === 'pending') return `Refund of ${amount} asked${e.reason ? ` (${e.reason})` : ''}`;
    return `Refund of ${amount} ${say(REFUND_STATUS, e.status, lang)}`;
  }
  if (late) return `迟到的付款 ${amount} 已退回`;
  if (e.status === 'pending') return `申请退款 ${amount}${e.reason ? `（${e.reason}）` : ''}`;
  return `退款 ${amount} ${say(REFUND_STATUS, e.status, lang)}`;
}

function paymentText(e: TimelineItem, lang: ConsoleLang, amount: string): string {
  const method = say(METHOD, e.method, lang);
  const source = e.source ? say(SOURCE, e.source, lang) : '';
  if (lang === 'en') {
    if (e.phase === 'started') return `Payment by ${method} started, ${amount}`;
    if (e.phase === 'captured') return `${amount} taken${source ? ` from the ${source}` : ''}`;
    if (e.phase === 'released') return `Payment released, nothing taken`;
    return `Payment ${say(REFUND_STATUS, e.phase ?? e.status, lang)}`;
  }
  if (e.phase === 'started') return `开始${method}支付，${amount}`;
  if (e.phase === 'captured') return `${source ? `从${source}` : ''}扣款 ${amount}`;
  if (e.phase === 'released') return '支付已解冻，未扣款';
  return `支付${say(REFUND_STATUS, e.phase ?? e.status, lang)}`;
}

/**
 * A call to a rail or a notification from it: "支付宝 预下单 → 二维码", "WeChat Pay notification: paid",
 * with the rail's trade number once it has one (operators quote it to the rail's support).
 */
function railText(e: TimelineItem, lang: ConsoleLang): string {
  const rail = say(SOURCE, e.rail as string | undefined, lang);
  const call = say(RAIL_CALL, e.call as string | undefined, lang);
  const outcome = say(RAIL_OUTCOME, e.outcome as string | undefined, lang);
  const notified = e.call === 'notification';
  const no = typeof e.providerTradeNo === 'string' && e.outcome === 'paid' ? e.providerTradeNo : '';
  if (lang === 'en') return `${rail} ${call}${notified ? ': ' : ' → '}${outcome}${no ? ` (trade ${no})` : ''}`;
  return `${rail} ${call}${notified ? '：' : ' → '}${outcome}${no ? `（交易号 ${no}）` : ''}`;
}

function messageText(e: TimelineItem, lang: ConsoleLang): string {
  const t = (en: string, zh: string) => (lang === 'en' ? en : zh);
  const m = /^([a-z]+\.[a-z_]+) (applied|ignored|rejected)$/.exec(e.summary);
  if (m) return `${say(EVENT_TYPE, m[1], lang)}${t(': ', '：')}${RESULT[m[2]!]![lang]}`;
  if (e.channel)
    return e.channel === 'sms_confirm'
      ? t('Phone bound: the payment server sends the code', '已绑定快捷支付：由支付服务器发送验证码')
      : t(`Phone not bound: ${say(CHANNEL, e.channel, lang)} sent`, `未绑定：已发送${say(CHANNEL, e.channel, lang)}`);
  if (e.subscriptionId) return t(`Renewal of ${e.subscriptionId}`, `自动续费 ${e.subscriptionId}`);
  if (/payment server could not be asked/.test(e.summary))
    return t(
      'The payment server could not be asked for its part of this timeline',
      '暂时无法从支付服务器读取这部分时间线',
    );
  return e.summary;
}

import { formatPrice } from '../money-format.ts';
import type { ConsoleLang, Words } from './console-app.ts';

/** A translation table: an API value (a status, a channel, a code) → what a person reads. */
export type WordTable = Readonly<Record<string, Words>>;

const w = (en: string, zh: string): Words => ({ en, 'zh-CN': zh });

/**
 * The words of a state that several things have (an order, a payment, a refund or an SMS `failed`), written
 * once so that every table, and so every page, says it the same way.
 */
const SAID = {
  paid: w('paid', '已支付'),
  failed: w('failed', '失败'),
  expired: w('expired', '已过期'),
  cancelled: w('cancelled', '已取消'),
  refunded: w('refunded', '已退款'),
  pending: w('pending', '处理中'),
};

/** An order's status (API "Order"). */
export const ORDER_STATUS: WordTable = {
  created: w('created', '已创建'),
  awaiting_payment: w('awaiting payment', '待支付'),
  paid: SAID.paid,
  fulfilled: w('fulfilled', '已开通'),
  failed: SAID.failed,
  expired: SAID.expired,
  cancelled: SAID.cancelled,
  refunded: SAID.refunded,
};

/** How an order is paid (`channel`). */
export const CHANNEL: WordTable = {
  sms_confirm: w('SMS confirmation', '短信确认'),
  wap_link: w('payment link by SMS', '短信支付链接'),
  renewal: w('automatic renewal', '自动续费'),
  scan: w('scan to pay', '扫码支付'),
  alipay: w('Alipay', '支付宝'),
  wechatpay: w('WeChat Pay', '微信支付'),
};

/** Where the money came from (`source`, `paidWith`): the wallet's own sources and the rails to come. */
export const SOURCE: WordTable = {
  wallet: w('wallet', '钱包'),
  card: w('bank card', '银行卡'),
  alipay: w('Alipay', '支付宝'),
  wechatpay: w('WeChat Pay', '微信支付'),
  scan: w('scan to pay', '扫码支付'),
};

/** What tvpay did at a rail about a trade, or took from it (`call` of a timeline entry of kind `rail`). */
export const RAIL_CALL: WordTable = {
  start: w('pre-order', '预下单'),
  query: w('query', '查询'),
  close: w('close', '关闭交易'),
  refund: w('refund', '退款'),
  query_refund: w('refund query', '查询退款'),
  notification: w('notification', '通知'),
};

/** What a call to a rail learnt, one word (`outcome` of a timeline entry of kind `rail`). */
export const RAIL_OUTCOME: WordTable = {
  qr: w('QR code', '二维码'),
  redirect: w('payment page', '支付页面'),
  charging: w('charging', '扣款中'),
  paid: SAID.paid,
  pending: w('waiting for the payer', '等待付款'),
  not_found: w('not found at the rail', '渠道无此交易'),
  closed: w('closed', '已关闭'),
  refunded: SAID.refunded,
  succeeded: w('refunded', '已退回'),
  failed: SAID.failed,
  refused: w('refused, changes nothing', '已拒绝，未作变更'),
  unknown: w('no clear answer, asked again later', '结果未知，稍后再查询'),
  other: w('other answer', '其他结果'),
};

/** How the payment server took a payment (`method`). */
export const METHOD: WordTable = {
  sms_code: w('SMS code', '短信验证码'),
  page: w('checkout page', '支付页面'),
  renewal: w('renewal', '自动续费'),
  scan: w('scan to pay', '扫码支付'),
  rail_page: w("the rail's payment page", '支付渠道页面'),
};

export const PAYMENT_STATUS: WordTable = {
  pending: SAID.pending,
  captured: w('captured', '已扣款'),
  failed: SAID.failed,
  released: w('released', '已解冻'),
  refunded: SAID.refunded,
};

export const REFUND_STATUS: WordTable = {
  pending: SAID.pending,
  succeeded: w('succeeded', '已退回'),
  failed: SAID.failed,
};

export const SUBSCRIPTION_STATUS: WordTable = {
  active: w('active', '生效中'),
  cancelled: SAID.cancelled,
  lapsed: w('lapsed', '已失效'),
};

/** Why an order, a payment or a refund failed (`failureCode`). */
export const FAILURE: WordTable = {
  INSUFFICIENT_FUNDS: w('not enough money in the wallet or card', '钱包和银行卡余额不足'),
  CONFIRMATION_FAILED: w('too many wrong codes', '验证码错误次数过多'),
  CONFIRMATION_EXPIRED: w('the payer did not confirm in time', '付款人未及时确认'),
  NO_ACCOUNT: w('the phone has no wallet', '该手机号没有钱包账户'),
  NOT_BOUND: w('the phone has not turned on quick pay', '该手机号未开通快捷支付'),
  CURRENCY_MISMATCH: w('the wallet holds another currency', '钱包币种不符'),
  SMS_UNDELIVERABLE: w('the SMS could not be delivered', '短信无法送达'),
  CODE_NOT_SENT: w('the code SMS was not sent', '验证码短信未发出'),
  REPLACED: w('replaced by a newer order', '被新订单取代'),
  SUPERSEDED: w('replaced by a newer payment', '被新的支付取代'),
  PAYMENT_FAILED: w('the payment failed', '支付失败'),
  FULFILMENT_FAILED: w('the service was not turned on in time', '未能及时开通服务'),
  REFUND_FAILED: w('the refund failed', '退款失败'),
  ORDER_CLOSED: w('the order was closed', '订单已关闭'),
  SOURCE_NOT_FOUND: w('the wallet or card is gone', '钱包或银行卡不存在'),
  EXPIRED: SAID.expired,
};

/** A line of an account's ledger (`kind` of an entry). */
export const LEDGER_KIND: WordTable = {
  hold: w('hold', '冻结'),
  release: w('hold released', '解冻'),
  credit: w('top-up', '充值'),
  capture: w('payment', '扣款'),
  refund: w('refund', '退款'),
};

/** What an SMS was for (`kind` in the SMS log). */
export const SMS_KIND: WordTable = {
  code: w('confirmation code', '验证码'),
  link: w('payment link', '支付链接'),
  possession: w('phone check', '手机验证'),
  declined: w('payment declined', '支付被拒'),
  receipt: w('receipt', '付款回执'),
  'renewal-receipt': w('renewal receipt', '续费回执'),
  refund: w('refund notice', '退款通知'),
  'quick-pay-on': w('quick pay turned on', '快捷支付已开通'),
  'reply-answer': w('answer to a reply', '回复应答'),
  'renewal-notice': w('renewal reminder', '续费提醒'),
  'renewal-failed': w('renewal failed', '续费失败'),
  'renewal-lapsed': w('subscription ended', '续费终止'),
  'cancel-nothing': w('nothing to cancel', '无可取消'),
  cancelled: w('renewal cancelled', '已取消续费'),
};

/** An SMS's delivery state. */
export const SMS_STATE: WordTable = {
  queued: w('queued', '排队中'),
  sent: w('sent', '已发送'),
  delivered: w('delivered', '已送达'),
  failed: SAID.failed,
};

/** A webhook delivery's state. */
export const DELIVERY_STATE: WordTable = {
  pending: w('waiting', '待投递'),
  delivered: w('delivered', '已投递'),
  failed: SAID.failed,
};

/** Webhook events (and the payment server's messages) by type. */
export const EVENT_TYPE: WordTable = {
  'order.paid': w('order paid', '订单已支付'),
  'order.fulfilled': w('order fulfilled', '订单已开通'),
  'order.failed': w('order failed', '订单失败'),
  'order.expired': w('order expired', '订单过期'),
  'order.cancelled': w('order cancelled', '订单取消'),
  'order.refunded': w('order refunded', '订单已退款'),
  'order.fulfil': w('turn the service on', '开通服务'),
  'refund.succeeded': w('refund succeeded', '退款成功'),
  'refund.failed': w('refund failed', '退款失败'),
  'payment.completed': w('payment completed', '支付完成'),
  'payment.failed': w('payment failed', '支付失败'),
  'payment.code_rejected': w('wrong code', '验证码错误'),
  'subscription.created': w('subscription started', '开始自动续费'),
  'subscription.renewed': w('subscription renewed', '已续费'),
  'subscription.renewal_failed': w('renewal failed', '续费失败'),
  'subscription.cancelled': w('subscription cancelled', '已取消续费'),
  'subscription.lapsed': w('subscription ended', '续费终止'),
};

/** A ledger audit's finding (`kind` of a problem). */
export const AUDIT_PROBLEM: WordTable = {
  entry_unbalanced: w('an entry does not balance', '分录借贷不平'),
  balance_mismatch: w('a balance differs from its postings', '余额与分录不符'),
  held_mismatch: w('a held amount differs from its holds', '冻结金额与冻结记录不符'),
  below_held: w('a balance is below what it holds', '余额低于冻结金额'),
  total_not_zero: w('the balances do not sum to zero', '所有余额之和不为零'),
};

/** A reconciliation mismatch (`kind`). */
export const MISMATCH: WordTable = {
  missing_at_provider: w('missing at the payment server', '支付服务器无此记录'),
  refund_amount_mismatch: w('refund amounts differ', '退款金额不一致'),
};

/**
 * The words of an API value in a language. A value no table knows yet (a code added later) is
 * shown as it is rather than hidden: the walk over every page in the browser test catches it.
 */
export function say(table: WordTable, value: string | null | undefined, lang: ConsoleLang): string {
  if (value === null || value === undefined || value === '') return '—';
  return table[value]?.[lang] ?? value;
}

/** Money for people, sign first: -20000 CNY → "-¥200.00", 20000 → "¥200.00". */
export function money(amountMinor: number, currency: string): string {
  return `${amountMinor < 0 ? '-' : ''}${formatPrice(Math.abs(amountMinor), currency)}`;
}

/** What the console says when the API refused an operator's request, by the problem's code. */
const PROBLEM: Record<string, (p: Problem, currency: string) => Words> = {
  REFUND_EXCEEDS_PAYMENT: (p, c) =>
    typeof p.leftMinor === 'number'
      ? {
          en: `That is more than is left to refund: at most ${money(p.leftMinor, c)} (refunds still pending count).`,
          'zh-CN': `超出可退金额：最多还能退 ${money(p.leftMinor, c)}（处理中的退款也计算在内）。`,
        }
      : w('That is more than is left to refund.', '超出可退金额。'),
  ORDER_NOT_PAID: () => w('Only a paid or fulfilled order can be refunded.', '只有已支付或已开通的订单可以退款。'),
  ORDER_NOT_FOUND: () => w('There is no such order.', '没有这个订单。'),
  ACCOUNT_NOT_FOUND: () => w('There is no such account.', '没有这个账户。'),
  PHONE_INVALID: () => w('That is not a mobile number we accept.', '这不是可以接受的手机号。'),
  WEBHOOK_URL_INVALID: () =>
    w(
      'The URL must be an absolute http(s) URL without a user or password.',
      '网址须为完整的 http(s) 地址，且不含用户名或密码。',
    ),
  WEBHOOK_URL_FORBIDDEN: () =>
    w(
      'That URL points into a private or local network, which webhooks may not call.',
      '该网址指向内网或本机地址，不能用作 webhook。',
    ),
  EVENT_TYPE_UNKNOWN: () => w('Choose at least one event from the list.', '请从列表中至少选择一个事件。'),
  WEBHOOK_NOT_FOUND: () => w('That webhook no longer exists.', '该 webhook 已不存在。'),
  DEVICE_NOT_FOUND: () => w('There is no such device.', '没有这个设备。'),
  PRODUCT_NOT_FOUND: () => w('There is no such product.', '没有这个套餐。'),
  SUBSCRIPTION_NOT_FOUND: () => w('There is no such subscription.', '没有这个自动续费。'),
  ORDER_CHANGED: () => w('The order changed meanwhile; look again.', '订单刚刚发生了变化，请刷新后再试。'),
  RATE_LIMITED: () => w('Too many requests; try again in a moment.', '请求过于频繁，请稍后再试。'),
};

/** A problem answer (RFC 9457) as the admin API gives it. */
export interface Problem {
  code?: string;
  detail?: string;
  leftMinor?: number;
}

/**
 * A refusal in the console's words. A code without words of its own says, in English, the API's
 * `detail` (it says what to fix) and, in Chinese, that the input was refused.
 */
export function problemSay(p: Problem, lang: ConsoleLang, currency = 'CNY'): string {
  const words = p.code ? PROBLEM[p.code] : undefined;
  if (words) return words(p, currency)[lang];
  return lang === 'en' ? (p.detail ?? 'The request was refused.') : '输入有误，操作未执行，请检查后再试。';
}

import type { AdminOrder } from '../../contracts/tv-api.ts';
import type { ConsoleLang } from '../../lib/console/console-app.ts';
import { CHANNEL, ORDER_STATUS, say, SOURCE } from '../../lib/console/console-words.ts';
import { formatMinor } from '../../lib/money-format.ts';
import { formatTime } from '../../lib/time-format.ts';

const HEAD = {
  en: [
    'Order',
    'Created',
    'Product',
    'Amount',
    'Refunded',
    'Currency',
    'Status',
    'Channel',
    'Paid with',
    'Phone',
    'Device',
  ],
  'zh-CN': ['订单', '创建时间', '套餐', '金额', '已退款', '币种', '状态', '渠道', '付款方式', '手机号', '设备'],
};

/**
 * A spreadsheet cell: quoted, quotes doubled, and text a spreadsheet would run as a formula
 * (`=`, `+`, `-`, `@` first: a product title is typed by people) made plain with a leading `'`.
 */
function cell(v: string): string {
  const text = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return `"${text.replace(/"/g, '""')}"`;
}

/**
 * The Orders list as CSV for a spreadsheet, in the console's language: amounts in yuan as
 * plain decimals (a spreadsheet sums them), times in the business time zone, phones masked as
 * the list masks them, and a byte-order mark so that Excel reads the Chinese as UTF-8.
 */
export function ordersCsv(orders: AdminOrder[], lang: ConsoleLang, timeZone: string): string {
  const rows = orders.map((x) =>
    [
      x.orderId,
      formatTime(x.createdAt, lang, timeZone, true),
      x.title,
      formatMinor(x.amountMinor, x.currency),
      formatMinor(x.refundedMinor, x.currency),
      x.currency,
      say(ORDER_STATUS, x.status, lang),
      say(CHANNEL, x.channel, lang),
      x.paidWith ? say(SOURCE, x.paidWith, lang) : '—',
      x.payerPhoneMasked ?? '—',
      x.deviceId,
    ].map(cell),
  );
  return `\ufeff${[HEAD[lang].map(cell), ...rows].map((r) => r.join(',')).join('\r\n')}\r\n`;
}

import { stackedBars } from '../../lib/console/charts.ts';
import type { ConsoleContext, PageResult, Words } from '../../lib/console/console-app.ts';
import { CHANNEL, FAILURE, money, say } from '../../lib/console/console-words.ts';
import { html } from '../../lib/html.ts';
import type { OrderStats } from '../orders/order-stats.ts';

type Bucket = OrderStats['buckets'][number];
const w = (en: string, zh: string): Words => ({ en, 'zh-CN': zh });
const sum = (m: Record<string, number>) => Object.values(m).reduce((a, b) => a + b, 0);

/** The headline figures of a business day: what an operator looks at first. */
function figures(b: Bucket | undefined, currency: string) {
  const orders = b ? sum(b.orders) : 0;
  return {
    revenue: b?.revenueMinor[currency] ?? 0,
    paid: b?.paid ?? 0,
    failureRate: orders ? (b ? sum(b.failures) : 0) / orders : 0,
    refunds: b?.refundedMinor[currency] ?? 0,
  };
}

/** Today's figures with the change since yesterday (business days), like a payments dashboard's. */
function headline(ctx: ConsoleContext, week: OrderStats) {
  const currency = Object.keys(week.buckets.at(-1)?.revenueMinor ?? {})[0] ?? 'CNY';
  const today = figures(week.buckets.at(-1), currency);
  const before = figures(week.buckets.at(-2), currency);
  const pct = (n: number) => `${(n * 100).toFixed(1)}%`;
  const change = (now: number, then: number, fmt: (n: number) => string) => {
    const d = now - then;
    const sign = d > 0 ? '+' : d < 0 ? '-' : '±';
    const rel = then ? ` (${sign}${Math.abs(Math.round((d / then) * 100))}%)` : '';
    return ctx.say({
      en: `${sign}${fmt(Math.abs(d)).replace(/^-/, '')}${rel} since yesterday`,
      'zh-CN': `较昨日 ${sign}${fmt(Math.abs(d)).replace(/^-/, '')}${rel}`,
    });
  };
  const points = (n: number) => `${(n * 100).toFixed(1)}${ctx.say(w(' pts', ' 个百分点'))}`;
  const cash = (n: number) => money(n, currency);
  const items: Array<[Words, string, string]> = [
    [w("Today's revenue", '今日收入'), cash(today.revenue), change(today.revenue, before.revenue, cash)],
    [w('Paid orders today', '今日已付订单'), String(today.paid), change(today.paid, before.paid, String)],
    [
      w('Failure rate today', '今日失败率'),
      pct(today.failureRate),
      change(today.failureRate, before.failureRate, points),
    ],
    [w('Refunded today', '今日退款'), cash(today.refunds), change(today.refunds, before.refunds, cash)],
  ];
  return html`<dl class="headline" aria-label="${ctx.say(w('Today', '今日'))}">${items.map(
    ([label, value, delta]) =>
      html`<div><dt>${ctx.say(label)}</dt><dd>${value}<span class="delta">${delta}</span></dd></div>`,
  )}</dl>`;
}

function charts(ctx: ConsoleContext, s: OrderStats, label: (iso: string) => string) {
  const labels = s.buckets.map((b) => label(b.start));
  const series = (pick: (b: Bucket) => Record<string, number>, name: (k: string) => string) =>
    [...new Set(s.buckets.flatMap((b) => Object.keys(pick(b))))]
      .sort()
      .map((k) => ({ name: name(k), values: s.buckets.map((b) => pick(b)[k] ?? 0) }));
  const currency = Object.keys(s.buckets.find((b) => sum(b.revenueMinor))?.revenueMinor ?? {})[0] ?? 'CNY';
  const channel = (k: string) =>
    k === 'none' ? ctx.say(w('no phone given yet', '尚未填写手机号')) : say(CHANNEL, k, ctx.lang);
  const totalWord = ctx.say(w('total', '合计'));
  const chart = (title: Words, shown: ReturnType<typeof series>, empty: Words, format?: (n: number) => string) =>
    stackedBars({
      title: ctx.say(title),
      labels,
      series: shown,
      empty: ctx.say(empty),
      totalWord,
      ...(format && { format }),
    });
  return [
    chart(
      w('Orders by channel', '按渠道的订单'),
      series((b) => b.orders, channel),
      w('No orders.', '没有订单。'),
    ),
    chart(
      w('Revenue (paid less refunded)', '收入（已付减退款）'),
      series(
        (b) => ({ [currency]: b.revenueMinor[currency] ?? 0 }),
        () => ctx.say(w('revenue', '收入')),
      ),
      w('No revenue.', '没有收入。'),
      (n) => money(n, currency),
    ),
    chart(
      w('Failures by reason', '按原因的失败'),
      series(
        (b) => b.failures,
        (k) => say(FAILURE, k, ctx.lang),
      ),
      w('No failures.', '没有失败。'),
    ),
  ];
}

/**
 * The overview: today's headline figures against yesterday's, then orders, revenue and failures
 * over the last 24 hours and the last 7 business days, all in the business time zone.
 */
export async function overviewPage(ctx: ConsoleContext, timeZone: string): Promise<PageResult> {
  const day = (await ctx.api<OrderStats>('GET', '/admin/v1/stats/orders?window=24h')).body;
  const week = (await ctx.api<OrderStats>('GET', '/admin/v1/stats/orders?window=7d')).body;
  const hour = new Intl.DateTimeFormat(ctx.lang, { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const date = new Intl.DateTimeFormat(ctx.lang, { timeZone, month: '2-digit', day: '2-digit', weekday: 'short' });
  return {
    title: w('Overview', '概览'),
    body: html`${headline(ctx, week)}
<h2>${ctx.say(w('Last 24 hours', '最近24小时'))}</h2>\
<div class="charts">${charts(ctx, day, (iso) => hour.format(new Date(iso)))}</div>
<h2>${ctx.say(w('Last 7 days', '最近7天'))}</h2>\
<div class="charts">${charts(ctx, week, (iso) => date.format(new Date(iso)))}</div>`,
  };
}

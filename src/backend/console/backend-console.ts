import type { FastifyInstance } from 'fastify';
import type { AdminOrder, Subscription } from '../../contracts/tv-api.ts';
import { parseAmount } from '../../lib/console/amount-input.ts';
import { stackedBars } from '../../lib/console/charts.ts';
import {
  at,
  mountConsole,
  type ConsoleSetup,
  noticeOf,
  problemText,
  table,
  type ConsoleContext,
  type PageResult,
  type Words,
} from '../../lib/console/console-app.ts';
import { html } from '../../lib/html.ts';
import { formatMinor, formatPrice } from '../../lib/money-format.ts';
import type { OrderStats } from '../orders/order-stats.ts';

const w = (en: string, zh: string): Words => ({ en, 'zh-CN': zh });
const STATUSES = ['created', 'awaiting_payment', 'paid', 'fulfilled', 'failed', 'expired', 'cancelled', 'refunded'];
const NOTICES = {
  refunded: w(
    'Refund asked for; the timeline shows when the payment server confirms it.',
    '已发起退款；支付服务器确认后会显示在时间线上。',
  ),
  revoked: w('Device revoked: its token no longer works.', '设备已停用，其令牌不再有效。'),
  retired: w('Product retired: TVs no longer offer it.', '套餐已下架，电视上不再显示。'),
  saved: w('Product saved.', '套餐已保存。'),
  cancelled: w('Renewal cancelled.', '已取消自动续费。'),
  resent: w('Delivery sent again.', '已重新投递。'),
  reconciled: w('Reconciliation ran.', '对账已完成。'),
};
const enc = encodeURIComponent;
/** After an action: back to the page with a notice, or with what the API refused. */
const back = (path: string, res: { status: number; body: any }, notice: keyof typeof NOTICES): PageResult => {
  const join = path.includes('?') ? '&' : '?';
  return {
    redirect:
      res.status < 300
        ? `/console${path}${join}notice=${notice}`
        : `/console${path}${join}error=${enc(problemText(res.body))}`,
  };
};

/** The operator's console of the back-end (API "Console"), over the back-end's admin API. */
export function backendConsole(app: FastifyInstance, o: ConsoleSetup): void {
  const when = (ctx: ConsoleContext, iso: string | null | undefined) => at(iso, ctx.lang, o.timeZone);
  const orderLink = (id: string) => html`<a href="/console/orders/${id}">${id}</a>`;

  async function overview(ctx: ConsoleContext): Promise<PageResult> {
    const chartsOf = (s: OrderStats, label: (iso: string) => string) => {
      const labels = s.buckets.map((b) => label(b.start));
      const keys = (pick: (b: OrderStats['buckets'][number]) => Record<string, number>) =>
        [...new Set(s.buckets.flatMap((b) => Object.keys(pick(b))))].sort();
      const series = (pick: (b: OrderStats['buckets'][number]) => Record<string, number>) =>
        keys(pick).map((k) => ({ name: k, values: s.buckets.map((b) => pick(b)[k] ?? 0) }));
      const revenue = series((b) => b.revenueMinor);
      return [
        stackedBars({
          title: ctx.say(w('Orders by channel', '按渠道的订单')),
          labels,
          series: series((b) => b.orders),
          empty: ctx.say(w('No orders.', '没有订单。')),
        }),
        stackedBars({
          title: ctx.say(w('Revenue (paid less refunded)', '收入（已付减退款）')),
          labels,
          series: revenue,
          format: (n) => formatMinor(n, revenue[0]?.name ?? 'CNY'),
          empty: ctx.say(w('No revenue.', '没有收入。')),
        }),
        stackedBars({
          title: ctx.say(w('Failures by code', '按原因的失败')),
          labels,
          series: series((b) => b.failures),
          empty: ctx.say(w('No failures.', '没有失败。')),
        }),
      ];
    };
    const day = (await ctx.api<OrderStats>('GET', '/admin/v1/stats/orders?window=24h')).body;
    const week = (await ctx.api<OrderStats>('GET', '/admin/v1/stats/orders?window=7d')).body;
    const hour = (iso: string) => when(ctx, iso).slice(-8, -3);
    const date = (iso: string) => when(ctx, iso).slice(0, 10);
    return {
      title: w('Overview', '概览'),
      body: html`<h2>${ctx.say(w('Last 24 hours', '最近24小时'))}</h2><div class="charts">${chartsOf(day, hour)}</div>
<h2>${ctx.say(w('Last 7 days', '最近7天'))}</h2><div class="charts">${chartsOf(week, date)}</div>`,
    };
  }

  async function orders(ctx: ConsoleContext): Promise<PageResult> {
    const q = (ctx.query.q ?? '').trim();
    if (/^ord_[A-Za-z0-9_-]+$/.test(q)) return { redirect: `/console/orders/${q}` };
    const params = new URLSearchParams({ limit: '25' });
    if (q) params.set(/^dev_/.test(q) ? 'deviceId' : 'phone', q);
    for (const k of ['status', 'from', 'to', 'cursor'] as const) if (ctx.query[k]) params.set(k, ctx.query[k]!);
    const res = await ctx.api<{ items: AdminOrder[]; nextCursor: string | null; detail?: string }>(
      'GET',
      `/admin/v1/orders?${params}`,
    );
    const next = new URLSearchParams({
      ...Object.fromEntries(Object.entries(ctx.query).filter(([, v]) => v)),
      cursor: res.body.nextCursor ?? '',
    });
    return {
      title: w('Orders', '订单'),
      body: html`<form method="get" action="/console/orders" class="inline" role="search">
<label>${ctx.say(w('Search', '搜索'))}<input name="q" type="search" value="${q}" placeholder="${ctx.say(w('order id, phone or device', '订单号、手机号或设备'))}"></label>
<label>${ctx.say(w('Status', '状态'))}<select name="status"><option value="">${ctx.say(w('any', '全部'))}</option>${STATUSES.map((s) => html`<option ${ctx.query.status === s ? html`selected` : ''}>${s}</option>`)}</select></label>
<label>${ctx.say(w('From', '起始日期'))}<input name="from" type="date" value="${ctx.query.from ?? ''}"></label>
<label>${ctx.say(w('To', '截止日期'))}<input name="to" type="date" value="${ctx.query.to ?? ''}"></label>
<button type="submit">${ctx.say(w('Search', '搜索'))}</button></form>
${
  res.status !== 200
    ? html`<p class="error" role="alert">${problemText(res.body as never)}</p>`
    : table(
        ctx.say(w('Orders, newest first', '订单（最新在前）')),
        [
          ctx.say(w('Order', '订单')),
          ctx.say(w('Created', '创建时间')),
          ctx.say(w('Product', '套餐')),
          ctx.say(w('Amount', '金额')),
          ctx.say(w('Status', '状态')),
          ctx.say(w('Channel', '渠道')),
          ctx.say(w('Phone', '手机号')),
          ctx.say(w('Device', '设备')),
        ],
        res.body.items.map((x) => [
          orderLink(x.orderId),
          when(ctx, x.createdAt),
          x.title,
          formatPrice(x.amountMinor, x.currency),
          x.status,
          x.channel ?? '—',
          x.payerPhoneMasked ?? '—',
          x.deviceId,
        ]),
        ctx.say(w('No orders match.', '没有符合条件的订单。')),
      )
}
${res.body.nextCursor ? html`<p><a href="/console/orders?${next}">${ctx.say(w('Next page', '下一页'))}</a></p>` : ''}`,
    };
  }

  async function order(ctx: ConsoleContext): Promise<PageResult> {
    const id = ctx.params.orderId!;
    const res = await ctx.api<AdminOrder>('GET', `/admin/v1/orders/${enc(id)}`);
    if (res.status !== 200)
      return {
        title: w('Order not found', '找不到订单'),
        body: html`<p class="error" role="alert">${problemText(res.body as never)}</p>`,
      };
    const x = res.body;
    const timeline = (
      await ctx.api<Array<{ at: string; kind: string; summary: string }>>('GET', `/admin/v1/orders/${enc(id)}/timeline`)
    ).body;
    const refunds = (
      await ctx.api<
        Array<{ refundId: string; amountMinor: number; status: string; reason: string; createdAt: string }>
      >('GET', `/admin/v1/orders/${enc(id)}/refunds`)
    ).body;
    const refundable = (x.status === 'paid' || x.status === 'fulfilled') && x.refundedMinor < x.amountMinor;
    const left = formatMinor(x.amountMinor - x.refundedMinor, x.currency);
    const refundForm =
      ctx.query.refund === '1' && refundable
        ? html`<form method="post" action="/console/orders/${id}/refund" class="card narrow" aria-label="${ctx.say(w('Refund', '退款'))}">
<input type="hidden" name="key" value="${o.random.id('ck')}">
<label>${ctx.say(w('Amount', '金额'))}<input name="amount" inputmode="decimal" value="${left}" aria-describedby="refund-currency" required></label><span id="refund-currency" class="muted">${x.currency}</span>
<label>${ctx.say(w('Reason', '原因'))}<input name="reason" maxlength="200" required></label>
<button type="submit">${ctx.say(w('Confirm refund', '确认退款'))}</button> <a href="/console/orders/${id}">${ctx.say(w('Keep the money', '不退款'))}</a></form>`
        : refundable
          ? html`<form method="get" action="/console/orders/${id}"><input type="hidden" name="refund" value="1"><button type="submit" class="danger">${ctx.say(w('Refund', '退款'))}</button></form>`
          : '';
    return {
      title: { en: `Order ${id}`, 'zh-CN': `订单 ${id}` },
      body: html`${noticeOf(ctx, NOTICES)}<dl class="facts">
<dt>${ctx.say(w('Status', '状态'))}</dt><dd data-testid="status">${x.status}${x.failureCode ? ` (${x.failureCode})` : ''}</dd>
<dt>${ctx.say(w('Product', '套餐'))}</dt><dd>${x.title} · ${formatPrice(x.amountMinor, x.currency)}</dd>
<dt>${ctx.say(w('Refunded', '已退款'))}</dt><dd>${formatPrice(x.refundedMinor, x.currency)}</dd>
<dt>${ctx.say(w('Payer', '付款手机'))}</dt><dd>${x.payerPhone ?? '—'}</dd>
<dt>${ctx.say(w('Channel', '渠道'))}</dt><dd>${x.channel ?? '—'}${x.paidWith ? ` · ${x.paidWith}` : ''}</dd>
<dt>${ctx.say(w('Device / account', '设备 / 账户'))}</dt><dd>${x.deviceId} / ${x.accountId}</dd>
<dt>${ctx.say(w('Created', '创建时间'))}</dt><dd>${when(ctx, x.createdAt)}</dd><dt>${ctx.say(w('Paid', '付款时间'))}</dt><dd>${when(ctx, x.paidAt)}</dd></dl>
${refundForm}
<section aria-label="Timeline"><h2>${ctx.say(w('Timeline', '时间线'))}</h2><ol class="timeline">${timeline.map((e) => html`<li><time>${when(ctx, e.at)}</time><span class="kind">${e.kind === 'sms' ? 'SMS' : e.kind}</span><span>${e.summary}</span></li>`)}</ol></section>
${table(
  ctx.say(w('Refunds', '退款')),
  [
    ctx.say(w('Refund', '退款')),
    ctx.say(w('Amount', '金额')),
    ctx.say(w('Status', '状态')),
    ctx.say(w('Reason', '原因')),
    ctx.say(w('Asked', '发起时间')),
  ],
  refunds.map((r) => [r.refundId, formatPrice(r.amountMinor, x.currency), r.status, r.reason, when(ctx, r.createdAt)]),
  ctx.say(w('No refunds.', '没有退款。')),
)}`,
    };
  }

  async function refund(ctx: ConsoleContext): Promise<PageResult> {
    const id = ctx.params.orderId!;
    const current = await ctx.api<AdminOrder>('GET', `/admin/v1/orders/${enc(id)}`);
    if (current.status !== 200)
      return { redirect: `/console/orders/${enc(id)}?error=${enc(problemText(current.body as never))}` };
    const amountMinor = parseAmount(ctx.form.amount ?? '', current.body.currency);
    if (amountMinor === undefined)
      return {
        redirect: `/console/orders/${enc(id)}?refund=1&error=${enc(ctx.say(w('The amount must be a number like 20.00.', '金额应为数字，例如 20.00。')))}`,
      };
    const res = await ctx.api(
      'POST',
      `/admin/v1/orders/${enc(id)}/refunds`,
      { amountMinor, reason: (ctx.form.reason ?? '').trim() || 'console' },
      { 'idempotency-key': ctx.form.key ?? o.random.id('ck') },
    );
    return back(`/orders/${enc(id)}`, res, 'refunded');
  }

  async function subscriptions(ctx: ConsoleContext): Promise<PageResult> {
    const params = new URLSearchParams();
    if (ctx.query.q) params.set('phone', ctx.query.q);
    if (ctx.query.status) params.set('status', ctx.query.status);
    const res = await ctx.api<Subscription[]>('GET', `/admin/v1/subscriptions?${params}`);
    return {
      title: w('Subscriptions', '自动续费'),
      body: html`${noticeOf(ctx, NOTICES)}<form method="get" class="inline" role="search"><label>${ctx.say(w('Phone', '手机号'))}<input name="q" type="search" value="${ctx.query.q ?? ''}"></label>
<label>${ctx.say(w('Status', '状态'))}<select name="status"><option value="">${ctx.say(w('any', '全部'))}</option>${['active', 'cancelled', 'lapsed'].map((s) => html`<option ${ctx.query.status === s ? html`selected` : ''}>${s}</option>`)}</select></label><button type="submit">${ctx.say(w('Search', '搜索'))}</button></form>
${
  res.status !== 200
    ? html`<p class="error" role="alert">${problemText(res.body as never)}</p>`
    : table(
        ctx.say(w('Subscriptions', '自动续费')),
        [
          ctx.say(w('Subscription', '编号')),
          ctx.say(w('Product', '套餐')),
          ctx.say(w('Phone', '手机号')),
          ctx.say(w('Status', '状态')),
          ctx.say(w('Next charge', '下次扣款')),
          '',
        ],
        res.body.map((s) => [
          s.subscriptionId,
          `${s.title} · ${formatPrice(s.amountMinor, s.currency)}`,
          s.payerPhoneMasked,
          s.status,
          when(ctx, s.nextChargeAt),
          s.status === 'active'
            ? html`<form method="post" action="/console/subscriptions/${s.subscriptionId}/cancel"><input type="hidden" name="key" value="${o.random.id('ck')}"><button type="submit" class="secondary">${ctx.say(w('Cancel renewal', '取消续费'))}</button></form>`
            : '',
        ]),
        ctx.say(w('No subscriptions.', '没有自动续费。')),
      )
}`,
    };
  }

  async function products(ctx: ConsoleContext): Promise<PageResult> {
    const list = (
      await ctx.api<
        Array<{
          productId: string;
          title: string;
          amountMinor: number;
          currency: string;
          service: string;
          durationDays: number;
          renews: boolean;
          retiredAt: string | null;
          description: string;
        }>
      >('GET', '/admin/v1/products')
    ).body;
    const editing = list.find((p) => p.productId === ctx.query.edit);
    return {
      title: w('Products', '套餐'),
      body: html`${noticeOf(ctx, NOTICES)}${table(
        ctx.say(w('Products', '套餐')),
        [
          ctx.say(w('Product', '套餐')),
          ctx.say(w('Title', '名称')),
          ctx.say(w('Price', '价格')),
          ctx.say(w('Service', '服务')),
          ctx.say(w('Days', '天数')),
          ctx.say(w('On sale', '在售')),
          '',
        ],
        list.map((p) => [
          p.productId,
          p.title,
          formatPrice(p.amountMinor, p.currency),
          p.service,
          `${p.durationDays}${p.renews ? ctx.say(w(' (renews)', '（自动续费）')) : ''}`,
          p.retiredAt ? ctx.say(w('retired', '已下架')) : ctx.say(w('yes', '是')),
          html`<a href="/console/products?edit=${p.productId}">${ctx.say(w('Edit', '编辑'))}</a>${p.retiredAt ? '' : html` <form method="post" action="/console/products/${p.productId}/retire" style="display:inline"><button type="submit" class="secondary">${ctx.say(w('Retire', '下架'))}</button></form>`}`,
        ]),
        ctx.say(w('No products.', '没有套餐。')),
      )}
<h2>${editing ? ctx.say(w('Edit a product', '编辑套餐')) : ctx.say(w('New product', '新套餐'))}</h2>
<form method="post" action="/console/products" class="inline">
<label>${ctx.say(w('Product id', '套餐编号'))}<input name="productId" required pattern="[A-Za-z0-9][A-Za-z0-9._-]{0,63}" value="${editing?.productId ?? ''}"></label>
<label>${ctx.say(w('Title', '名称'))}<input name="title" required maxlength="100" value="${editing?.title ?? ''}"></label>
<label>${ctx.say(w('Description', '说明'))}<input name="description" maxlength="400" value="${editing?.description ?? ''}"></label>
<label>${ctx.say(w('Price', '价格'))}<input name="amount" inputmode="decimal" required value="${editing ? formatMinor(editing.amountMinor, editing.currency) : ''}"></label>
<label>${ctx.say(w('Currency', '币种'))}<input name="currency" required pattern="[A-Z]{3}" value="${editing?.currency ?? 'CNY'}"></label>
<label>${ctx.say(w('Service', '服务'))}<input name="service" required value="${editing?.service ?? ''}"></label>
<label>${ctx.say(w('Days', '天数'))}<input name="durationDays" inputmode="numeric" required value="${editing?.durationDays ?? ''}"></label>
<label>${ctx.say(w('Renews', '自动续费'))}<select name="renews"><option value="no">${ctx.say(w('no', '否'))}</option><option value="yes" ${editing?.renews ? html`selected` : ''}>${ctx.say(w('yes', '是'))}</option></select></label>
<button type="submit">${ctx.say(w('Save product', '保存套餐'))}</button></form>`,
    };
  }

  async function saveProduct(ctx: ConsoleContext): Promise<PageResult> {
    const f = ctx.form;
    const currency = (f.currency ?? '').trim();
    const amountMinor = /^[A-Z]{3}$/.test(currency) ? parseAmount(f.amount ?? '', currency) : undefined;
    const res = await ctx.api('PUT', `/admin/v1/products/${enc((f.productId ?? '').trim() || '-')}`, {
      title: (f.title ?? '').trim(),
      description: (f.description ?? '').trim(),
      amountMinor: amountMinor ?? -1,
      currency,
      service: (f.service ?? '').trim(),
      durationDays: Number(f.durationDays),
      renews: f.renews === 'yes',
    });
    return back('/products', res, 'saved');
  }

  async function devices(ctx: ConsoleContext, created?: { deviceId: string; token: string }): Promise<PageResult> {
    const list = (
      await ctx.api<
        Array<{ deviceId: string; name: string; accountId: string; createdAt: string; revokedAt: string | null }>
      >('GET', '/admin/v1/devices')
    ).body;
    const revoking = list.find((d) => d.deviceId === ctx.query.revoke && !d.revokedAt);
    return {
      title: w('Devices', '设备'),
      body: html`${noticeOf(ctx, NOTICES)}${created ? html`<div class="ok" role="status"><p>${ctx.say(w('Device provisioned. Its token is shown this once: put it on the TV now.', '设备已开通。令牌只显示这一次，请现在配置到电视上。'))}</p><p class="token" data-testid="device-token">${created.token}</p></div>` : ''}
${revoking ? html`<form method="post" action="/console/devices/${revoking.deviceId}/revoke" class="card narrow"><p>${ctx.say({ en: `Revoke ${revoking.name} (${revoking.deviceId})? Its TV stops working at once.`, 'zh-CN': `停用 ${revoking.name}（${revoking.deviceId}）？这台电视将立即无法使用。` })}</p><button type="submit" class="danger">${ctx.say(w('Confirm revoke', '确认停用'))}</button> <a href="/console/devices">${ctx.say(w('Keep it', '保留'))}</a></form>` : ''}
${table(
  ctx.say(w('Devices', '设备')),
  [
    ctx.say(w('Device', '设备')),
    ctx.say(w('Name', '名称')),
    ctx.say(w('Account', '账户')),
    ctx.say(w('Provisioned', '开通时间')),
    ctx.say(w('State', '状态')),
    '',
  ],
  list.map((d) => [
    d.deviceId,
    d.name,
    d.accountId,
    when(ctx, d.createdAt),
    d.revokedAt
      ? ctx.say({ en: `revoked ${when(ctx, d.revokedAt)}`, 'zh-CN': `已停用 ${when(ctx, d.revokedAt)}` })
      : ctx.say(w('active', '使用中')),
    d.revokedAt
      ? ''
      : html`<form method="get" action="/console/devices"><input type="hidden" name="revoke" value="${d.deviceId}"><button type="submit" class="secondary" aria-label="${ctx.say(w('Revoke', '停用'))} ${d.name}">${ctx.say(w('Revoke', '停用'))}</button></form>`,
  ]),
  ctx.say(w('No devices.', '没有设备。')),
)}
<h2>${ctx.say(w('Provision a TV', '开通电视'))}</h2><form method="post" action="/console/devices" class="inline"><input type="hidden" name="key" value="${o.random.id('ck')}">
<label>${ctx.say(w('Name', '名称'))}<input name="name" required maxlength="100"></label><label>${ctx.say(w('Subscriber account', '用户账户'))}<input name="accountId" required maxlength="128"></label>
<button type="submit">${ctx.say(w('Provision', '开通'))}</button></form>`,
    };
  }

  async function provision(ctx: ConsoleContext): Promise<PageResult> {
    const res = await ctx.api<{ deviceId: string; token: string }>('POST', '/admin/v1/devices', {
      name: (ctx.form.name ?? '').trim(),
      accountId: (ctx.form.accountId ?? '').trim(),
    });
    if (res.status !== 201) return { redirect: `/console/devices?error=${enc(problemText(res.body as never))}` };
    // The token is shown in this answer only (not stored, not in a URL): a reload shows the list without it.
    ctx.reply.header('cache-control', 'no-store');
    return devices(ctx, res.body);
  }

  async function sms(ctx: ConsoleContext): Promise<PageResult> {
    const params = new URLSearchParams({ limit: '50' });
    if (ctx.query.q) params.set('phone', ctx.query.q);
    const rows = await ctx.api<Array<{ smsId: string; kind: string; to: string; status: string; createdAt: string }>>(
      'GET',
      `/admin/v1/sms?${params}`,
    );
    const budget = (
      await ctx.api<{ windowStart: string; used: number; budget: number; tripped: boolean }>(
        'GET',
        '/admin/v1/sms/budget',
      )
    ).body;
    return {
      title: w('SMS', '短信'),
      body: html`<p class="${budget.tripped ? 'error' : 'muted'}" data-testid="budget">${ctx.say({ en: `Today's SMS budget: ${budget.used} of ${budget.budget} used${budget.tripped ? ' — tripped, new SMS payments are refused' : ''}.`, 'zh-CN': `今日短信额度：已用 ${budget.used} / ${budget.budget}${budget.tripped ? '，已用完，新的短信支付将被拒绝' : ''}。` })}</p>
<form method="get" class="inline" role="search"><label>${ctx.say(w('Phone', '手机号'))}<input name="q" type="search" value="${ctx.query.q ?? ''}"></label><button type="submit">${ctx.say(w('Search', '搜索'))}</button></form>
${
  rows.status !== 200
    ? html`<p class="error" role="alert">${problemText(rows.body as never)}</p>`
    : table(
        ctx.say(w('SMS sent, newest first', '已发送短信（最新在前）')),
        [
          ctx.say(w('SMS', '短信')),
          ctx.say(w('Kind', '类型')),
          ctx.say(w('To', '收件人')),
          ctx.say(w('State', '状态')),
          ctx.say(w('Queued', '时间')),
        ],
        rows.body.map((r) => [r.smsId, r.kind, r.to, r.status, when(ctx, r.createdAt)]),
        ctx.say(w('No SMS.', '没有短信。')),
      )
}`,
    };
  }

  async function webhooks(ctx: ConsoleContext): Promise<PageResult> {
    const hooks = (
      await ctx.api<Array<{ webhookId: string; url: string; events: string[]; createdAt: string }>>(
        'GET',
        '/admin/v1/webhooks',
      )
    ).body;
    const ids = [...hooks.map((h) => h.webhookId), 'fulfilment'];
    const chosen = ids.includes(ctx.query.webhook ?? '') ? ctx.query.webhook! : (hooks[0]?.webhookId ?? 'fulfilment');
    const deliveries = (
      await ctx.api<
        Array<{
          deliveryId: string;
          eventId: string;
          type: string;
          status: string;
          attempts: number;
          lastStatusCode: number | null;
          lastAttemptAt: string | null;
          nextAttemptAt: string | null;
        }>
      >('GET', `/admin/v1/webhooks/${enc(chosen)}/deliveries?limit=50`)
    ).body;
    return {
      title: w('Webhooks', 'Webhooks'),
      body: html`${noticeOf(ctx, NOTICES)}${table(
        ctx.say(w('Webhooks', 'Webhooks')),
        [ctx.say(w('Webhook', '编号')), 'URL', ctx.say(w('Events', '事件')), ''],
        hooks.map((h) => [
          h.webhookId,
          h.url,
          h.events.join(', '),
          html`<a href="/console/webhooks?webhook=${h.webhookId}">${ctx.say(w('Deliveries', '投递记录'))}</a>`,
        ]),
        ctx.say(w('No webhooks registered.', '没有登记的 webhook。')),
      )}
<p><a href="/console/webhooks?webhook=fulfilment">${ctx.say(w('Deliveries to the provisioning URL', '开通接口的投递记录'))}</a></p>
${table(
  ctx.say({ en: `Deliveries of ${chosen}`, 'zh-CN': `${chosen} 的投递记录` }),
  [
    ctx.say(w('Delivery', '投递')),
    ctx.say(w('Event', '事件')),
    ctx.say(w('State', '状态')),
    ctx.say(w('Attempts', '次数')),
    ctx.say(w('Last answer', '最近应答')),
    ctx.say(w('Next try', '下次重试')),
    '',
  ],
  deliveries.map((d) => [
    d.deliveryId,
    `${d.type} (${d.eventId})`,
    d.status,
    d.attempts,
    d.lastStatusCode === null ? '—' : String(d.lastStatusCode),
    when(ctx, d.nextAttemptAt),
    html`<form method="post" action="/console/webhooks/${chosen}/deliveries/${d.deliveryId}/resend"><input type="hidden" name="key" value="${o.random.id('ck')}"><button type="submit" class="secondary">${ctx.say(w('Resend', '重新投递'))}</button></form>`,
  ]),
  ctx.say(w('No deliveries.', '没有投递。')),
)}`,
    };
  }

  async function reconciliation(ctx: ConsoleContext): Promise<PageResult> {
    const reports = (
      await ctx.api<
        Array<{
          date: string;
          matched: number;
          repaired: unknown[];
          mismatches: Array<{ kind: string; orderId: string; paymentId: string; detail: string }>;
          ranAt: string;
        }>
      >('GET', '/admin/v1/reconciliations')
    ).body;
    return {
      title: w('Reconciliation', '对账'),
      body: html`${noticeOf(ctx, NOTICES)}<form method="post" action="/console/reconciliation" class="inline"><input type="hidden" name="key" value="${o.random.id('ck')}"><label>${ctx.say(w('Business day', '营业日'))}<input name="date" type="date" required></label><button type="submit">${ctx.say(w('Run now', '立即对账'))}</button></form>
${table(
  ctx.say(w('Reports, newest first', '对账报告（最新在前）')),
  [
    ctx.say(w('Day', '营业日')),
    ctx.say(w('Matched', '一致')),
    ctx.say(w('Repaired', '已修复')),
    ctx.say(w('Mismatches', '不一致')),
    ctx.say(w('Ran', '运行时间')),
  ],
  reports.map((r) => [
    r.date,
    r.matched,
    r.repaired.length,
    r.mismatches.length
      ? html`<ul>${r.mismatches.map((m) => html`<li><strong>${m.kind}</strong> ${orderLink(m.orderId)} ${m.detail}</li>`)}</ul>`
      : '0',
    when(ctx, r.ranAt),
  ]),
  ctx.say(w('No reports yet.', '还没有对账报告。')),
)}`,
    };
  }

  const keyed = (ctx: ConsoleContext) => ({ 'idempotency-key': ctx.form.key ?? o.random.id('ck') });
  mountConsole(app, {
    ...o,
    cookie: 'tvpay_backend_console',
    name: w('tvpay back-end console', 'tvpay 运营控制台'),
    nav: [
      { path: '/overview', label: w('Overview', '概览') },
      { path: '/orders', label: w('Orders', '订单') },
      { path: '/subscriptions', label: w('Subscriptions', '自动续费') },
      { path: '/products', label: w('Products', '套餐') },
      { path: '/devices', label: w('Devices', '设备') },
      { path: '/sms', label: w('SMS', '短信') },
      { path: '/webhooks', label: w('Webhooks', 'Webhooks') },
      { path: '/reconciliation', label: w('Reconciliation', '对账') },
    ],
    pages: {
      '/overview': overview,
      '/orders': orders,
      '/orders/:orderId': order,
      '/subscriptions': subscriptions,
      '/products': products,
      '/devices': (ctx) => devices(ctx),
      '/sms': sms,
      '/webhooks': webhooks,
      '/reconciliation': reconciliation,
    },
    actions: {
      '/orders/:orderId/refund': refund,
      '/subscriptions/:subscriptionId/cancel': async (ctx) =>
        back(
          '/subscriptions',
          await ctx.api(
            'POST',
            `/admin/v1/subscriptions/${enc(ctx.params.subscriptionId!)}/cancel`,
            undefined,
            keyed(ctx),
          ),
          'cancelled',
        ),
      '/products': saveProduct,
      '/products/:productId/retire': async (ctx) =>
        back('/products', await ctx.api('DELETE', `/admin/v1/products/${enc(ctx.params.productId!)}`), 'retired'),
      '/devices': provision,
      '/devices/:deviceId/revoke': async (ctx) =>
        back('/devices', await ctx.api('DELETE', `/admin/v1/devices/${enc(ctx.params.deviceId!)}`), 'revoked'),
      '/webhooks/:webhookId/deliveries/:deliveryId/resend': async (ctx) =>
        back(
          `/webhooks?webhook=${enc(ctx.params.webhookId!)}`,
          await ctx.api(
            'POST',
            `/admin/v1/webhooks/${enc(ctx.params.webhookId!)}/deliveries/${enc(ctx.params.deliveryId!)}/resend`,
            undefined,
            keyed(ctx),
          ),
          'resent',
        ),
      '/reconciliation': async (ctx) =>
        back(
          '/reconciliation',
          await ctx.api('POST', '/admin/v1/reconciliations', { date: ctx.form.date ?? '' }, keyed(ctx)),
          'reconciled',
        ),
    },
  });
}

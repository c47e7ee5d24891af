import type { FastifyInstance } from 'fastify';
import type { AdminOrder, Subscription } from '../../contracts/tv-api.ts';
import { parseAmount } from '../../lib/console/amount-input.ts';
import {
  at,
  mountConsole,
  type ConsoleSetup,
  noticeOf,
  type ConsoleContext,
  type PageResult,
  type Words,
} from '../../lib/console/console-app.ts';
import {
  CHANNEL,
  DELIVERY_STATE,
  EVENT_TYPE,
  FAILURE,
  MISMATCH,
  money,
  ORDER_STATUS,
  problemSay,
  REFUND_STATUS,
  say,
  SMS_KIND,
  SMS_STATE,
  SOURCE,
  SUBSCRIPTION_STATUS,
} from '../../lib/console/console-words.ts';
import {
  alertLine,
  anySelect,
  button,
  columnsTable,
  confirmForm,
  fact,
  keyInput,
  listTable,
  navigation,
  rowAction,
  searchField,
  shownOnce,
  submit,
} from '../../lib/console/console-parts.ts';
import { html, type Html } from '../../lib/html.ts';
import { formatMinor } from '../../lib/money-format.ts';
import { maskPhone } from '../../lib/phone.ts';
import { EVENT_TYPES } from '../webhooks/event-types.ts';
import { timelineLine, type TimelineItem } from './timeline-view.ts';
import { ordersCsv } from './orders-export.ts';
import { overviewPage } from './overview-page.ts';

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
  deleted: w('Webhook deleted: it receives nothing more.', 'webhook 已删除，不再接收事件。'),
  reconciled: w('Reconciliation ran.', '对账已完成。'),
};
const enc = encodeURIComponent;
const TO_PROVISIONING = w('Deliveries to the provisioning URL', '开通接口的投递记录');
const PAYSERVER_SILENT = w(
  'The payment server could not be asked: its SMS (codes, receipts) are missing below.',
  '暂时无法询问支付服务器：下面缺少它发送的短信（验证码、回执）。',
);
/** After an action: back to the page with a notice, or with what the API refused, in the console's words. */
const back = (
  ctx: ConsoleContext,
  path: string,
  res: { status: number; body: any },
  notice: keyof typeof NOTICES,
): PageResult => {
  const join = path.includes('?') ? '&' : '?';
  return {
    redirect:
      res.status < 300
        ? `/console${path}${join}notice=${notice}`
        : `/console${path}${join}error=${enc(problemSay(res.body ?? {}, ctx.lang))}`,
  };
};
/** A refusal of the admin API, shown in place of what a page would list. */
const refusal = (ctx: ConsoleContext, body: unknown) => alertLine(problemSay((body ?? {}) as never, ctx.lang));

/** The operator's console of the back-end (API "Console"), over the back-end's admin API. */
/** A product of `GET /admin/v1/products`. */
interface Product {
  productId: string;
  title: string;
  amountMinor: number;
  currency: string;
  service: string;
  durationDays: number;
  renews: boolean;
  retiredAt: string | null;
  description: string;
}

/** A delivery of `GET /admin/v1/webhooks/{id}/deliveries`. */
interface Delivery {
  deliveryId: string;
  eventId: string;
  type: string;
  status: string;
  attempts: number;
  lastStatusCode: number | null;
  lastAttemptAt: string | null;
  nextAttemptAt: string | null;
}

/** What the operator typed into the refund form, shown again with why it was refused. */
type RefundTry = { amount: string; reason: string; error: string };

/** The pages of the console, one method each (issue 29: named pieces instead of one long closure). */
class BackendConsolePages {
  constructor(readonly o: ConsoleSetup) {}

  /** A form's idempotency key (drawn into the form when it was shown), so a resubmitted form acts once. */
  readonly keyed = (ctx: ConsoleContext) => ({ 'idempotency-key': ctx.form.key ?? this.o.random.id('ck') });

  readonly when = (ctx: ConsoleContext, iso: string | null | undefined) => at(iso, ctx.lang, this.o.timeZone);
  readonly orderLink = (id: string) => html`<a href="/console/orders/${id}">${id}</a>`;

  /** The admin API's filters from the Orders page's search form. */
  readonly listParams = (ctx: ConsoleContext, limit: number) => {
    const q = (ctx.query.q ?? '').trim();
    const params = new URLSearchParams({ limit: String(limit) });
    if (q) params.set(/^dev_/.test(q) ? 'deviceId' : 'phone', q);
    for (const k of ['status', 'from', 'to'] as const) if (ctx.query[k]) params.set(k, ctx.query[k]!);
    return params;
  };
  readonly exportQuery = (ctx: ConsoleContext) =>
    new URLSearchParams(
      Object.entries(ctx.query).filter(([k, v]) => v && ['q', 'status', 'from', 'to'].includes(k)) as string[][],
    );

  /** The filtered Orders list, every page of it (up to 10 000 orders), as a CSV file. */
  async exportOrders(ctx: ConsoleContext) {
    const params = this.listParams(ctx, 200);
    const all: AdminOrder[] = [];
    for (let page = 0; page < 50; page++) {
      const res = await ctx.api<{ items: AdminOrder[]; nextCursor: string | null }>(
        'GET',
        `/admin/v1/orders?${params}`,
      );
      if (res.status !== 200)
        return {
          status: res.status,
          type: 'text/plain; charset=utf-8',
          body: problemSay(res.body as never, ctx.lang),
          name: 'orders.txt',
        };
      all.push(...res.body.items);
      if (!res.body.nextCursor) break;
      params.set('cursor', res.body.nextCursor);
    }
    return {
      status: 200,
      type: 'text/csv; charset=utf-8',
      body: ordersCsv(all, ctx.lang, this.o.timeZone),
      name: 'tvpay-orders.csv',
    };
  }

  /**
   * The header's search box: an order id opens the order; a payment or refund id opens the order
   * it belongs to; anything else (a phone, a device) lists the matching orders.
   */
  async search(ctx: ConsoleContext): Promise<PageResult> {
    const q = (ctx.query.q ?? '').trim();
    if (/^ord_[A-Za-z0-9_-]+$/.test(q)) return { redirect: `/console/orders/${q}` };
    const by = /^pay_/.test(q) ? 'paymentId' : /^rfd_/.test(q) ? 'refundId' : undefined;
    if (!by) return { redirect: `/console/orders?q=${enc(q)}` };
    const res = await ctx.api<{ items: AdminOrder[] }>('GET', `/admin/v1/orders?${by}=${enc(q)}&limit=1`);
    const found = res.status === 200 ? res.body.items[0] : undefined;
    if (found) return { redirect: `/console/orders/${found.orderId}` };
    return {
      title: w('Search', '查找'),
      body: html`<p class="muted" role="status">${ctx.say({
        en: `No order has ${q}.`,
        'zh-CN': `没有订单与 ${q} 有关。`,
      })}</p>`,
    };
  }

  async orders(ctx: ConsoleContext): Promise<PageResult> {
    const q = (ctx.query.q ?? '').trim();
    if (/^ord_[A-Za-z0-9_-]+$/.test(q)) return { redirect: `/console/orders/${q}` };
    const params = this.listParams(ctx, 25);
    if (ctx.query.cursor) params.set('cursor', ctx.query.cursor);
    const res = await ctx.api<{ items: AdminOrder[]; nextCursor: string | null; detail?: string }>(
      'GET',
      `/admin/v1/orders?${params}`,
    );
    const next = new URLSearchParams({
      ...Object.fromEntries(Object.entries(ctx.query).filter(([, v]) => v)),
      cursor: res.body.nextCursor ?? '',
    });
    const nextLink = res.body.nextCursor
      ? html`<a href="/console/orders?${next}">${ctx.say(w('Next page', '下一页'))}</a> · `
      : '';
    const exportWords = ctx.say(w('Export these orders as CSV', '导出这些订单（CSV）'));
    return {
      title: w('Orders', '订单'),
      body: html`<form method="get" action="/console/orders" class="inline" role="search">
${searchField(ctx.say(w('Search', '搜索')), q, ctx.say(w('order id, phone or device', '订单号、手机号或设备')))}
<label>${ctx.say(w('Status', '状态'))}${anySelect(ctx, 'status', ORDER_STATUS, STATUSES, ctx.query.status)}</label>
<label>${ctx.say(w('From', '起始日期'))}<input name="from" type="date" value="${ctx.query.from ?? ''}"></label>
<label>${ctx.say(w('To', '截止日期'))}<input name="to" type="date" value="${ctx.query.to ?? ''}"></label>
${submit(ctx.say(w('Search', '搜索')))}</form>
${
  res.status !== 200
    ? refusal(ctx, res.body)
    : listTable(
        ctx,
        w('Orders, newest first', '订单（最新在前）'),
        [
          w('Order', '订单'),
          w('Created', '创建时间'),
          w('Product', '套餐'),
          w('Amount', '金额'),
          w('Status', '状态'),
          w('Channel', '渠道'),
          w('Phone', '手机号'),
          w('Device', '设备'),
        ],
        res.body.items.map((x) => [
          this.orderLink(x.orderId),
          this.when(ctx, x.createdAt),
          x.title,
          money(x.amountMinor, x.currency),
          say(ORDER_STATUS, x.status, ctx.lang),
          say(CHANNEL, x.channel, ctx.lang),
          x.payerPhoneMasked ?? '—',
          x.deviceId,
        ]),
        w('No orders match.', '没有符合条件的订单。'),
      )
}
<p>${nextLink}<a href="/console/orders.csv?${this.exportQuery(ctx)}" download>${exportWords}</a></p>`,
    };
  }

  async order(ctx: ConsoleContext, tried?: RefundTry): Promise<PageResult> {
    const id = ctx.params.orderId!;
    const res = await ctx.api<AdminOrder>('GET', `/admin/v1/orders/${enc(id)}`);
    if (res.status !== 200) return { title: w('Order not found', '找不到订单'), body: refusal(ctx, res.body) };
    const x = res.body;
    const timeline = (await ctx.api<TimelineItem[]>('GET', `/admin/v1/orders/${enc(id)}/timeline`)).body;
    const refunds = (
      await ctx.api<
        Array<{ refundId: string; amountMinor: number; status: string; reason: string; createdAt: string }>
      >('GET', `/admin/v1/orders/${enc(id)}/refunds`)
    ).body;
    const refundable = (x.status === 'paid' || x.status === 'fulfilled') && x.refundedMinor < x.amountMinor;
    return {
      title: { en: `Order ${id}`, 'zh-CN': `订单 ${id}` },
      body: html`${noticeOf(ctx, NOTICES)}${this.orderFacts(ctx, x, timeline)}
${refundable ? this.refundForm(ctx, x, tried) : ''}
<section aria-label="Timeline"><h2>${ctx.say(w('Timeline', '时间线'))}</h2><ol class="timeline">${timeline.map((e) =>
        this.timelineItem(ctx, e, x.currency),
      )}</ol></section>
${columnsTable(
  ctx,
  w('Refunds', '退款'),
  refunds,
  [
    [w('Refund', '退款'), (r) => r.refundId],
    [w('Amount', '金额'), (r) => money(r.amountMinor, x.currency)],
    [w('Status', '状态'), (r) => say(REFUND_STATUS, r.status, ctx.lang)],
    [w('Reason', '原因'), (r) => r.reason],
    [w('Asked', '发起时间'), (r) => this.when(ctx, r.createdAt)],
  ],
  w('No refunds.', '没有退款。'),
)}`,
    };
  }

  /** What the order is: its status, product, money, payer, channel and rail, device and times. */
  orderFacts(ctx: ConsoleContext, x: AdminOrder, timeline: TimelineItem[]) {
    const failure = x.failureCode ? ` · ${say(FAILURE, x.failureCode, ctx.lang)}` : '';
    const paidWith = x.paidWith ? ` · ${say(SOURCE, x.paidWith, ctx.lang)}` : '';
    const created = fact(ctx.say(w('Created', '创建时间')), this.when(ctx, x.createdAt));
    const paid = fact(ctx.say(w('Paid', '付款时间')), this.when(ctx, x.paidAt));
    return html`<dl class="facts">
${fact(ctx.say(w('Status', '状态')), `${say(ORDER_STATUS, x.status, ctx.lang)}${failure}`, 'status')}
${fact(ctx.say(w('Product', '套餐')), `${x.title} · ${money(x.amountMinor, x.currency)}`)}
${fact(ctx.say(w('Refunded', '已退款')), money(x.refundedMinor, x.currency))}
${fact(ctx.say(w('Payer', '付款手机')), x.payerPhone ?? '—')}
${fact(ctx.say(w('Channel', '渠道')), `${say(CHANNEL, x.channel, ctx.lang)}${paidWith}`)}
${this.railFacts(ctx, timeline)}
${fact(ctx.say(w('Device / account', '设备 / 账户')), `${x.deviceId} / ${x.accountId}`)}
${created}${paid}</dl>`;
  }

  /** One line of the order's timeline: when, what kind, and what happened in words. */
  timelineItem(ctx: ConsoleContext, e: TimelineItem, currency: string) {
    const line = timelineLine(e, ctx.lang, currency);
    const when = this.when(ctx, e.at);
    return html`<li><time>${when}</time><span class="kind">${line.kind}</span><span>${line.text}</span></li>`;
  }

  /**
   * The rail trade that paid the order (else its latest), from its timeline: the rail in words, the rail's
   * trade number (what the payer's app and the rail's support know it by) and tvpay's. Nothing without one.
   */
  railFacts(ctx: ConsoleContext, timeline: TimelineItem[]) {
    const trades = timeline.filter((e) => e.kind === 'rail');
    const t = trades.find((e) => e.tradeState === 'paid' && e.providerTradeNo) ?? trades.at(-1);
    if (!t) return '';
    const providerNo = typeof t.providerTradeNo === 'string' ? t.providerTradeNo : '—';
    const ours = html`<span class="muted">(${ctx.say(w('tvpay', 'tvpay 单号'))} ${t.outTradeNo as string})</span>`;
    return html`${fact(ctx.say(w('Rail', '支付渠道')), say(SOURCE, t.rail as string, ctx.lang), 'rail')}
${fact(ctx.say(w("Rail's trade number", '渠道交易号')), html`${providerNo} ${ours}`, 'rail-trade')}`;
  }

  /** The refund button, or (after it, or after a refusal) the one-step form with what was typed. */
  refundForm(ctx: ConsoleContext, x: AdminOrder, tried?: RefundTry) {
    const id = x.orderId;
    const refundWord = ctx.say(w('Refund', '退款'));
    if (ctx.query.refund !== '1' && !tried)
      return html`<form method="get" action="/console/orders/${id}"><input type="hidden" name="refund" value="1">\
${button(refundWord, 'danger')}</form>`;
    const unit = x.currency === 'CNY' ? ctx.say(w('yuan', '元')) : x.currency;
    const amount = tried?.amount ?? formatMinor(x.amountMinor - x.refundedMinor, x.currency);
    const keep = html`<a href="/console/orders/${id}">${ctx.say(w('Keep the money', '不退款'))}</a>`;
    return html`${tried ? alertLine(tried.error) : ''}<form method="post" action="/console/orders/${id}/refund" \
class="card narrow" aria-label="${refundWord}">
${keyInput(this.o.random.id('ck'))}
<label>${ctx.say(w('Amount', '金额'))}<input name="amount" inputmode="decimal" value="${amount}" \
aria-describedby="refund-currency" required></label><span id="refund-currency" class="muted">${unit}</span>
<label>${ctx.say(w('Reason', '原因'))}\
<input name="reason" maxlength="200" value="${tried?.reason ?? ''}" required></label>
${submit(ctx.say(w('Confirm refund', '确认退款')))} ${keep}</form>`;
  }

  /** A refund asked in the console; a refusal shows the form again with what was typed and why, in words. */
  async refund(ctx: ConsoleContext): Promise<PageResult> {
    const id = ctx.params.orderId!;
    const current = await ctx.api<AdminOrder>('GET', `/admin/v1/orders/${enc(id)}`);
    if (current.status !== 200)
      return { redirect: `/console/orders/${enc(id)}?error=${enc(problemSay(current.body as never, ctx.lang))}` };
    const typed = { amount: (ctx.form.amount ?? '').slice(0, 32), reason: (ctx.form.reason ?? '').slice(0, 200) };
    const amountMinor = parseAmount(typed.amount, current.body.currency);
    if (amountMinor === undefined)
      return this.order(ctx, {
        ...typed,
        error: ctx.say(w('The amount must be a number like 20.00.', '金额应为数字，例如 20.00。')),
      });
    const res = await ctx.api(
      'POST',
      `/admin/v1/orders/${enc(id)}/refunds`,
      { amountMinor, reason: typed.reason.trim() || 'console' },
      { 'idempotency-key': ctx.form.key ?? this.o.random.id('ck') },
    );
    if (res.status >= 300)
      return this.order(ctx, { ...typed, error: problemSay(res.body ?? {}, ctx.lang, current.body.currency) });
    return back(ctx, `/orders/${enc(id)}`, res, 'refunded');
  }

  async subscriptions(ctx: ConsoleContext): Promise<PageResult> {
    const params = new URLSearchParams();
    if (ctx.query.q) params.set('phone', ctx.query.q);
    if (ctx.query.status) params.set('status', ctx.query.status);
    const res = await ctx.api<Subscription[]>('GET', `/admin/v1/subscriptions?${params}`);
    const statusSelect = anySelect(
      ctx,
      'status',
      SUBSCRIPTION_STATUS,
      ['active', 'cancelled', 'lapsed'],
      ctx.query.status,
    );
    return {
      title: w('Subscriptions', '自动续费'),
      body: html`${noticeOf(ctx, NOTICES)}<form method="get" class="inline" role="search">${searchField(
        ctx.say(w('Phone', '手机号')),
        ctx.query.q ?? '',
      )}
<label>${ctx.say(w('Status', '状态'))}${statusSelect}</label>${submit(ctx.say(w('Search', '搜索')))}</form>
${
  res.status !== 200
    ? refusal(ctx, res.body)
    : listTable(
        ctx,
        w('Subscriptions', '自动续费'),
        [
          w('Subscription', '编号'),
          w('Product', '套餐'),
          w('Phone', '手机号'),
          w('Status', '状态'),
          w('Next charge', '下次扣款'),
          '',
        ],
        res.body.map((s) => [
          s.subscriptionId,
          `${s.title} · ${money(s.amountMinor, s.currency)}`,
          s.payerPhoneMasked,
          say(SUBSCRIPTION_STATUS, s.status, ctx.lang),
          this.when(ctx, s.nextChargeAt),
          s.status === 'active'
            ? rowAction(
                `/console/subscriptions/${s.subscriptionId}/cancel`,
                this.o.random.id('ck'),
                ctx.say(w('Cancel renewal', '取消续费')),
              )
            : '',
        ]),
        w('No subscriptions.', '没有自动续费。'),
      )
}`,
    };
  }

  async products(ctx: ConsoleContext): Promise<PageResult> {
    const list = (await ctx.api<Product[]>('GET', '/admin/v1/products')).body;
    const editing = list.find((p) => p.productId === ctx.query.edit);
    return {
      title: w('Products', '套餐'),
      body: html`${noticeOf(ctx, NOTICES)}${listTable(
        ctx,
        w('Products', '套餐'),
        [
          w('Product', '套餐'),
          w('Title', '名称'),
          w('Price', '价格'),
          w('Service', '服务'),
          w('Days', '天数'),
          w('On sale', '在售'),
          '',
        ],
        list.map((p) => [
          p.productId,
          p.title,
          money(p.amountMinor, p.currency),
          p.service,
          `${p.durationDays}${p.renews ? ctx.say(w(' (renews)', '（自动续费）')) : ''}`,
          p.retiredAt ? ctx.say(w('retired', '已下架')) : ctx.say(w('yes', '是')),
          this.productActions(ctx, p),
        ]),
        w('No products.', '没有套餐。'),
      )}
<h2>${editing ? ctx.say(w('Edit a product', '编辑套餐')) : ctx.say(w('New product', '新套餐'))}</h2>
${this.productForm(ctx, editing)}`,
    };
  }

  /** A product's row actions: edit it, and retire it while it is on sale. */
  productActions(ctx: ConsoleContext, p: { productId: string; retiredAt: string | null }) {
    const retire = html` <form method="post" action="/console/products/${p.productId}/retire" style="display:inline">\
${button(ctx.say(w('Retire', '下架')), 'secondary')}</form>`;
    const edit = html`<a href="/console/products?edit=${p.productId}">${ctx.say(w('Edit', '编辑'))}</a>`;
    return html`${edit}${p.retiredAt ? '' : retire}`;
  }

  /** The form that adds a product, or changes the one being edited. */
  productForm(ctx: ConsoleContext, editing: Product | undefined) {
    const price = editing ? formatMinor(editing.amountMinor, editing.currency) : '';
    const renews = html`<select name="renews"><option value="no">${ctx.say(w('no', '否'))}</option>\
<option value="yes" ${editing?.renews ? html`selected` : ''}>${ctx.say(w('yes', '是'))}</option></select>`;
    return html`<form method="post" action="/console/products" class="inline">
<label>${ctx.say(w('Product id', '套餐编号'))}<input name="productId" required \
pattern="[A-Za-z0-9][A-Za-z0-9._-]{0,63}" value="${editing?.productId ?? ''}"></label>
<label>${ctx.say(w('Title', '名称'))}<input name="title" required maxlength="100" value="${editing?.title ?? ''}"></label>
<label>${ctx.say(w('Description', '说明'))}<input name="description" maxlength="400" \
value="${editing?.description ?? ''}"></label>
<label>${ctx.say(w('Price', '价格'))}<input name="amount" inputmode="decimal" required value="${price}"></label>
<label>${ctx.say(w('Currency', '币种'))}<input name="currency" required pattern="[A-Z]{3}" \
value="${editing?.currency ?? 'CNY'}"></label>
<label>${ctx.say(w('Service', '服务'))}<input name="service" required value="${editing?.service ?? ''}"></label>
<label>${ctx.say(w('Days', '天数'))}<input name="durationDays" inputmode="numeric" required \
value="${editing?.durationDays ?? ''}"></label>
<label>${ctx.say(w('Renews', '自动续费'))}${renews}</label>
${submit(ctx.say(w('Save product', '保存套餐')))}</form>`;
  }

  async saveProduct(ctx: ConsoleContext): Promise<PageResult> {
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
    return back(ctx, '/products', res, 'saved');
  }

  async devices(ctx: ConsoleContext, created?: { deviceId: string; token: string }): Promise<PageResult> {
    const list = (
      await ctx.api<
        Array<{ deviceId: string; name: string; accountId: string; createdAt: string; revokedAt: string | null }>
      >('GET', '/admin/v1/devices')
    ).body;
    const revoking = list.find((d) => d.deviceId === ctx.query.revoke && !d.revokedAt);
    const shownWhy = ctx.say(
      w(
        'Device provisioned. Its token is shown this once: put it on the TV now.',
        '设备已开通。令牌只显示这一次，请现在配置到电视上。',
      ),
    );
    return {
      title: w('Devices', '设备'),
      body: html`${noticeOf(ctx, NOTICES)}${created ? shownOnce(shownWhy, 'device-token', created.token) : ''}
${revoking ? this.revokeConfirm(ctx, revoking) : ''}
${listTable(
  ctx,
  w('Devices', '设备'),
  [w('Device', '设备'), w('Name', '名称'), w('Account', '账户'), w('Provisioned', '开通时间'), w('State', '状态'), ''],
  list.map((d) => [
    d.deviceId,
    d.name,
    d.accountId,
    this.when(ctx, d.createdAt),
    d.revokedAt
      ? ctx.say({ en: `revoked ${this.when(ctx, d.revokedAt)}`, 'zh-CN': `已停用 ${this.when(ctx, d.revokedAt)}` })
      : ctx.say(w('active', '使用中')),
    d.revokedAt ? '' : this.revokeButton(ctx, d),
  ]),
  w('No devices.', '没有设备。'),
)}
<h2>${ctx.say(w('Provision a TV', '开通电视'))}</h2><form method="post" action="/console/devices" class="inline">\
${keyInput(this.o.random.id('ck'))}
<label>${ctx.say(w('Name', '名称'))}<input name="name" required maxlength="100"></label>\
<label>${ctx.say(w('Subscriber account', '用户账户'))}<input name="accountId" required maxlength="128"></label>
${submit(ctx.say(w('Provision', '开通')))}</form>`,
    };
  }

  /** A device's row action: asks to revoke it (the next page confirms). */
  revokeButton(ctx: ConsoleContext, d: { deviceId: string; name: string }) {
    const revoke = ctx.say(w('Revoke', '停用'));
    return html`<form method="get" action="/console/devices"><input type="hidden" name="revoke" value="${d.deviceId}">\
<button type="submit" class="secondary" aria-label="${revoke} ${d.name}">${revoke}</button></form>`;
  }

  /** The question before a device is revoked: its TV stops working at once. */
  revokeConfirm(ctx: ConsoleContext, d: { deviceId: string; name: string }) {
    return confirmForm(
      `/console/devices/${d.deviceId}/revoke`,
      ctx.say({
        en: `Revoke ${d.name} (${d.deviceId})? Its TV stops working at once.`,
        'zh-CN': `停用 ${d.name}（${d.deviceId}）？这台电视将立即无法使用。`,
      }),
      ctx.say(w('Confirm revoke', '确认停用')),
      '/console/devices',
      ctx.say(w('Keep it', '保留')),
    );
  }

  async provision(ctx: ConsoleContext): Promise<PageResult> {
    const res = await ctx.api<{ deviceId: string; token: string }>('POST', '/admin/v1/devices', {
      name: (ctx.form.name ?? '').trim(),
      accountId: (ctx.form.accountId ?? '').trim(),
    });
    if (res.status !== 201)
      return { redirect: `/console/devices?error=${enc(problemSay(res.body as never, ctx.lang))}` };
    // The token is shown in this answer only (not stored, not in a URL): a reload shows the list without it.
    ctx.reply.header('cache-control', 'no-store');
    return this.devices(ctx, res.body);
  }

  /** The SMS of the latest orders from both services, phones masked as the Orders list masks them; the day's budget. */
  async sms(ctx: ConsoleContext): Promise<PageResult> {
    const params = new URLSearchParams({ limit: '25' });
    if (ctx.query.q) params.set('phone', ctx.query.q);
    const rows = await ctx.api<{
      items: Array<{
        orderId: string;
        smsId: string;
        kind: string;
        to: string;
        status: string;
        sentBy: string;
        createdAt: string;
      }>;
      payserverAnswered: boolean;
    }>('GET', `/admin/v1/sms/orders?${params}`);
    const budget = (
      await ctx.api<{ windowStart: string; used: number; budget: number; tripped: boolean }>(
        'GET',
        '/admin/v1/sms/budget',
      )
    ).body;
    const sentBy = (who: string) =>
      who === 'payserver' ? ctx.say(w('payment server', '支付服务器')) : ctx.say(w('back-end', '运营后台'));
    return {
      title: w('SMS', '短信'),
      body: html`${this.smsBudget(ctx, budget)}
<form method="get" class="inline" role="search">${searchField(ctx.say(w('Phone', '手机号')), ctx.query.q ?? '')}\
${submit(ctx.say(w('Search', '搜索')))}</form>
${rows.status === 200 && !rows.body.payserverAnswered ? alertLine(ctx.say(PAYSERVER_SILENT)) : ''}
${
  rows.status !== 200
    ? refusal(ctx, rows.body)
    : listTable(
        ctx,
        w('SMS of the latest 25 orders, both services, newest first', '最近 25 个订单的短信（两个服务，最新在前）'),
        [
          w('Sent', '时间'),
          w('Order', '订单'),
          w('What', '类型'),
          w('Sent by', '发送方'),
          w('To', '收件人'),
          w('State', '状态'),
        ],
        rows.body.items.map((r) => [
          this.when(ctx, r.createdAt),
          this.orderLink(r.orderId),
          say(SMS_KIND, r.kind, ctx.lang),
          sentBy(r.sentBy),
          maskPhone(r.to),
          say(SMS_STATE, r.status, ctx.lang),
        ]),
        w('No SMS.', '没有短信。'),
      )
}`,
    };
  }

  /** The day's SMS budget: how much is used, and whether it tripped (then SMS payments are refused). */
  smsBudget(ctx: ConsoleContext, budget: { used: number; budget: number; tripped: boolean }) {
    const said = ctx.say({
      en: `Today's SMS budget: ${budget.used} of ${budget.budget} used${
        budget.tripped ? ' — tripped, new SMS payments are refused' : ''
      }.`,
      'zh-CN': `今日短信额度：已用 ${budget.used} / ${budget.budget}${
        budget.tripped ? '，已用完，新的短信支付将被拒绝' : ''
      }。`,
    });
    return html`<p class="${budget.tripped ? 'error' : 'muted'}" data-testid="budget">${said}</p>`;
  }

  async webhooks(ctx: ConsoleContext, created?: { webhookId: string; secret: string }): Promise<PageResult> {
    const hooks = (
      await ctx.api<Array<{ webhookId: string; url: string; events: string[]; createdAt: string }>>(
        'GET',
        '/admin/v1/webhooks',
      )
    ).body;
    const ids = [...hooks.map((h) => h.webhookId), 'fulfilment'];
    const chosen = ids.includes(ctx.query.webhook ?? '') ? ctx.query.webhook! : (hooks[0]?.webhookId ?? 'fulfilment');
    const deliveries = (await ctx.api<Delivery[]>('GET', `/admin/v1/webhooks/${enc(chosen)}/deliveries?limit=50`)).body;
    return {
      title: w('Webhooks', 'Webhooks'),
      body: html`${noticeOf(ctx, NOTICES)}${created ? this.secretShown(ctx, created) : ''}
${this.deleteConfirm(ctx, hooks)}${listTable(
        ctx,
        w('Webhooks', 'Webhooks'),
        [w('Webhook', '编号'), 'URL', w('Events', '事件'), ''],
        hooks.map((h) => [
          h.webhookId,
          h.url,
          h.events
            .map((e) => (e === '*' ? ctx.say(w('all events', '全部事件')) : say(EVENT_TYPE, e, ctx.lang)))
            .join(ctx.say(w(', ', '、'))),
          this.webhookLinks(ctx, h),
        ]),
        w('No webhooks registered.', '没有登记的 webhook。'),
      )}
${this.addWebhookForm(ctx)}
<p><a href="/console/webhooks?webhook=fulfilment">${ctx.say(TO_PROVISIONING)}</a></p>
${this.deliveriesTable(ctx, chosen, deliveries)}`,
    };
  }

  /** The deliveries to the chosen webhook (or to the provisioning URL), each with a button that sends it again. */
  deliveriesTable(ctx: ConsoleContext, chosen: string, deliveries: Delivery[]) {
    return listTable(
      ctx,
      chosen === 'fulfilment' ? TO_PROVISIONING : { en: `Deliveries of ${chosen}`, 'zh-CN': `${chosen} 的投递记录` },
      [
        w('Delivery', '投递'),
        w('Event', '事件'),
        w('State', '状态'),
        w('Attempts', '次数'),
        w('Last answer', '最近应答'),
        w('Next try', '下次重试'),
        '',
      ],
      deliveries.map((d) => [
        d.deliveryId,
        `${say(EVENT_TYPE, d.type, ctx.lang)} (${d.eventId})`,
        say(DELIVERY_STATE, d.status, ctx.lang),
        d.attempts,
        d.lastStatusCode === null ? '—' : String(d.lastStatusCode),
        this.when(ctx, d.nextAttemptAt),
        rowAction(
          `/console/webhooks/${chosen}/deliveries/${d.deliveryId}/resend`,
          this.o.random.id('ck'),
          ctx.say(w('Resend', '重新投递')),
        ),
      ]),
      w('No deliveries.', '没有投递。'),
    );
  }

  /** A new webhook's signing secret, shown in this answer only. */
  secretShown(ctx: ConsoleContext, created: { webhookId: string; secret: string }) {
    const why = ctx.say({
      en: `Webhook ${created.webhookId} added. Its signing secret is shown this once: put it into the receiver now.`,
      'zh-CN': `已添加 webhook ${created.webhookId}。签名密钥只显示这一次，请现在配置到接收方。`,
    });
    return shownOnce(why, 'webhook-secret', created.secret);
  }

  /** A webhook's row links: its deliveries, and the question before deleting it. */
  webhookLinks(ctx: ConsoleContext, h: { webhookId: string; url: string }) {
    const remove = ctx.say(w('Delete', '删除'));
    return html`<a href="/console/webhooks?webhook=${h.webhookId}">${ctx.say(w('Deliveries', '投递记录'))}</a> \
<a href="/console/webhooks?delete=${h.webhookId}" aria-label="${remove} ${h.url}">${remove}</a>`;
  }

  deleteConfirm(ctx: ConsoleContext, hooks: Array<{ webhookId: string; url: string }>) {
    const h = hooks.find((x) => x.webhookId === ctx.query.delete);
    if (!h) return '';
    return confirmForm(
      `/console/webhooks/${h.webhookId}/delete`,
      ctx.say({
        en: `Delete the webhook to ${h.url}? It receives nothing from now on.`,
        'zh-CN': `删除发往 ${h.url} 的 webhook？此后它将不再收到任何事件。`,
      }),
      ctx.say(w('Confirm delete', '确认删除')),
      '/console/webhooks',
      ctx.say(w('Keep it', '保留')),
    );
  }

  addWebhookForm(ctx: ConsoleContext) {
    const check = (name: string, label: string) =>
      html`<label class="check"><input type="checkbox" name="${name}" value="1">${label}</label>`;
    const events = EVENT_TYPES.map((t) => check(`ev_${t}`, say(EVENT_TYPE, t, ctx.lang)));
    return html`<h2>${ctx.say(w('Add a webhook', '添加 webhook'))}</h2>\
<form method="post" action="/console/webhooks" class="card">${keyInput(this.o.random.id('ck'))}
<label>${ctx.say(w('Receiver URL', '接收地址'))}\
<input name="url" type="url" required maxlength="2000" size="60" placeholder="https://"></label>
<fieldset><legend>${ctx.say(w('Events', '事件'))}</legend>${check('ev_all', ctx.say(w('all events', '全部事件')))}\
${events}</fieldset>
${submit(ctx.say(w('Add webhook', '添加 webhook')))}</form>`;
  }

  /** A webhook added in the console; its secret is in this answer only (not stored here, not in a URL). */
  async addWebhook(ctx: ConsoleContext): Promise<PageResult> {
    const events = ctx.form.ev_all ? ['*'] : EVENT_TYPES.filter((t) => ctx.form[`ev_${t}`]);
    if (events.length === 0)
      return { redirect: `/console/webhooks?error=${enc(problemSay({ code: 'EVENT_TYPE_UNKNOWN' }, ctx.lang))}` };
    const res = await ctx.api<{ webhookId: string; secret: string }>(
      'POST',
      '/admin/v1/webhooks',
      { url: (ctx.form.url ?? '').trim(), events },
      this.keyed(ctx),
    );
    if (res.status !== 201)
      return { redirect: `/console/webhooks?error=${enc(problemSay(res.body as never, ctx.lang))}` };
    ctx.reply.header('cache-control', 'no-store');
    return this.webhooks(ctx, res.body);
  }

  async reconciliation(ctx: ConsoleContext): Promise<PageResult> {
    const reports = (
      await ctx.api<
        Array<{
          date: string;
          matched: number;
          repaired: unknown[];
          mismatches: Mismatch[];
          ranAt: string;
        }>
      >('GET', '/admin/v1/reconciliations')
    ).body;
    return {
      title: w('Reconciliation', '对账'),
      body: html`${noticeOf(ctx, NOTICES)}<form method="post" action="/console/reconciliation" class="inline">\
${keyInput(this.o.random.id('ck'))}<label>${ctx.say(w('Business day', '营业日'))}<input name="date" type="date" required>\
</label>${submit(ctx.say(w('Run now', '立即对账')))}</form>
${columnsTable(
  ctx,
  w('Reports, newest first', '对账报告（最新在前）'),
  reports,
  [
    [w('Day', '营业日'), (r) => r.date],
    [w('Matched', '一致'), (r) => r.matched],
    [w('Repaired', '已修复'), (r) => r.repaired.length],
    [w('Mismatches', '不一致'), (r) => mismatchList(ctx, this.orderLink, r.mismatches)],
    [w('Ran', '运行时间'), (r) => this.when(ctx, r.ranAt)],
  ],
  w('No reports yet.', '还没有对账报告。'),
)}`,
    };
  }
}

/** A mismatch of a reconciliation report, as the admin API lists it. */
interface Mismatch {
  kind: string;
  orderId: string;
  paymentId: string;
  detail: string;
}

/**
 * A reconciliation report's mismatches, or `0` when it has none: each its kind in words, the order, and (in
 * English) the detail.
 */
function mismatchList(ctx: ConsoleContext, orderLink: (orderId: string) => Html, mismatches: Mismatch[]) {
  if (mismatches.length === 0) return '0';
  const item = (m: Mismatch) => {
    const detail = ctx.lang === 'en' ? ` ${m.detail}` : '';
    return html`<li><strong>${say(MISMATCH, m.kind, ctx.lang)}</strong> ${orderLink(m.orderId)}${detail}</li>`;
  };
  return html`<ul>${mismatches.map(item)}</ul>`;
}

export function backendConsole(app: FastifyInstance, o: ConsoleSetup): void {
  const pages = new BackendConsolePages(o);
  mountConsole(app, {
    ...o,
    cookie: 'tvpay_backend_console',
    name: w('tvpay back-end console', 'tvpay 运营控制台'),
    nav: navigation({
      '/overview': w('Overview', '概览'),
      '/orders': w('Orders', '订单'),
      '/subscriptions': w('Subscriptions', '自动续费'),
      '/products': w('Products', '套餐'),
      '/devices': w('Devices', '设备'),
      '/sms': w('SMS', '短信'),
      '/webhooks': w('Webhooks', 'Webhooks'),
      '/reconciliation': w('Reconciliation', '对账'),
    }),
    search: {
      path: '/search',
      label: w('Find by order, payment or refund id, or phone', '按订单号、支付编号、退款编号或手机号查找'),
      placeholder: w('Find: id or phone', '查找：编号或手机号'),
    },
    downloads: { '/orders.csv': (ctx) => pages.exportOrders(ctx) },
    pages: {
      '/overview': (ctx) => overviewPage(ctx, o.timeZone),
      '/search': (ctx) => pages.search(ctx),
      '/orders': (ctx) => pages.orders(ctx),
      '/orders/:orderId': (ctx) => pages.order(ctx),
      '/subscriptions': (ctx) => pages.subscriptions(ctx),
      '/products': (ctx) => pages.products(ctx),
      '/devices': (ctx) => pages.devices(ctx),
      '/sms': (ctx) => pages.sms(ctx),
      '/webhooks': (ctx) => pages.webhooks(ctx),
      '/reconciliation': (ctx) => pages.reconciliation(ctx),
    },
    actions: consoleActions(pages),
  });
}

/** The console's forms: each posts to the admin API and comes back to its page with a notice. */
function consoleActions(pages: BackendConsolePages): Parameters<typeof mountConsole>[1]['actions'] {
  return {
    '/orders/:orderId/refund': (ctx) => pages.refund(ctx),
    '/subscriptions/:subscriptionId/cancel': async (ctx) =>
      back(
        ctx,
        '/subscriptions',
        await ctx.api(
          'POST',
          `/admin/v1/subscriptions/${enc(ctx.params.subscriptionId!)}/cancel`,
          undefined,
          pages.keyed(ctx),
        ),
        'cancelled',
      ),
    '/products': (ctx) => pages.saveProduct(ctx),
    '/products/:productId/retire': async (ctx) =>
      back(ctx, '/products', await ctx.api('DELETE', `/admin/v1/products/${enc(ctx.params.productId!)}`), 'retired'),
    '/devices': (ctx) => pages.provision(ctx),
    '/devices/:deviceId/revoke': async (ctx) =>
      back(ctx, '/devices', await ctx.api('DELETE', `/admin/v1/devices/${enc(ctx.params.deviceId!)}`), 'revoked'),
    '/webhooks': (ctx) => pages.addWebhook(ctx),
    '/webhooks/:webhookId/delete': async (ctx) =>
      back(ctx, '/webhooks', await ctx.api('DELETE', `/admin/v1/webhooks/${enc(ctx.params.webhookId!)}`), 'deleted'),
    '/webhooks/:webhookId/deliveries/:deliveryId/resend': async (ctx) =>
      back(
        ctx,
        `/webhooks?webhook=${enc(ctx.params.webhookId!)}`,
        await ctx.api(
          'POST',
          `/admin/v1/webhooks/${enc(ctx.params.webhookId!)}/deliveries/${enc(ctx.params.deliveryId!)}/resend`,
          undefined,
          pages.keyed(ctx),
        ),
        'resent',
      ),
    '/reconciliation': async (ctx) =>
      back(
        ctx,
        '/reconciliation',
        await ctx.api('POST', '/admin/v1/reconciliations', { date: ctx.form.date ?? '' }, pages.keyed(ctx)),
        'reconciled',
      ),
  };
}

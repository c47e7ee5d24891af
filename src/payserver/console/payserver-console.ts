import type { FastifyInstance } from 'fastify';
import {
  at,
  mountConsole,
  type ConsoleSetup,
  type ConsoleContext,
  type PageResult,
  type Words,
} from '../../lib/console/console-app.ts';
import { html } from '../../lib/html.ts';
import {
  alertLine,
  anySelect,
  fact,
  listTable,
  navigation,
  searchField,
  submit,
} from '../../lib/console/console-parts.ts';
import {
  FAILURE,
  LEDGER_KIND,
  METHOD,
  money,
  PAYMENT_STATUS,
  problemSay,
  REFUND_STATUS,
  say,
  SOURCE,
  AUDIT_PROBLEM,
} from '../../lib/console/console-words.ts';
import { businessDate } from '../../lib/business-day.ts';
import { maskPhone } from '../../lib/phone.ts';
import type { AccountView } from '../accounts/accounts-service.ts';
import { ledgerView, type LedgerLine } from './ledger-view.ts';
import { agreementsPage, endAgreement } from './agreements-page.ts';

const w = (en: string, zh: string): Words => ({ en, 'zh-CN': zh });
const enc = encodeURIComponent;
const PAGE = 25;
const PAYMENT_STATUSES = ['pending', 'captured', 'failed', 'released', 'refunded'];

/** A payment of `GET /admin/v1/payments`, with its refunds. */
interface PaymentRow {
  paymentId: string;
  orderId: string;
  method: string;
  phone: string;
  source: string | null;
  amountMinor: number;
  refundedMinor: number;
  currency: string;
  status: string;
  failureCode: string | null;
  createdAt: string;
  refunds: Array<{ refundId: string; amountMinor: number; status: string; createdAt: string }>;
  railTrade?: { rail: string; outTradeNo: string; providerTradeNo: string | null; state: string } | null;
}

/** The ledger's audit of `GET /admin/v1/ledger/audit`. */
interface LedgerAudit {
  ok: boolean;
  entries: number;
  accounts: number;
  problems: Array<{ kind: string; id: string; detail: string }>;
}

/** A rail of `GET /admin/v1/rails`. */
interface RailRow {
  rail: string;
  mode: string;
  clearing: Array<{ accountId: string; currency: string; balanceMinor: number }>;
}

/** A reconciliation of `GET /admin/v1/rails/{rail}/reconciliations/{date}`: lists (or counts) of trades. */
type RailReconciliation = Record<'matched' | 'missingHere' | 'missingAtRail' | 'amountMismatches', unknown>;

const RECONCILED: ReadonlyArray<[keyof RailReconciliation, Words]> = [
  ['matched', { en: 'matched', 'zh-CN': '一致' }],
  ['missingHere', { en: 'paid at the rail, unknown here', 'zh-CN': '渠道已收款、本地无记录' }],
  ['missingAtRail', { en: 'settled here, unknown at the rail', 'zh-CN': '本地已入账、渠道无记录' }],
  ['amountMismatches', { en: 'amounts differ', 'zh-CN': '金额不符' }],
];

const NO_RECONCILING = w(
  "This payment server does not reconcile rails yet: the clearing balance above is the ledger's.",
  '本支付服务器尚不支持渠道对账：以上为账本中的清算余额。',
);

/** The wallet provider's console of the payment server (API "Console"), over the payment server's admin API. */

/** The pages of the console, one method each (issue 29: named pieces instead of one long closure). */
class PayserverConsolePages {
  constructor(readonly o: ConsoleSetup) {}

  readonly when = (ctx: ConsoleContext, iso: string | null | undefined) => at(iso, ctx.lang, this.o.timeZone);
  readonly error = (ctx: ConsoleContext, body: unknown) => alertLine(problemSay((body ?? {}) as never, ctx.lang));

  async accounts(ctx: ConsoleContext): Promise<PageResult> {
    const q = (ctx.query.q ?? '').trim();
    const res = q ? await ctx.api<AccountView[]>('GET', `/admin/v1/accounts?phone=${enc(q)}`) : undefined;
    const cash = (a: AccountView, m: number) => money(m, a.currency);
    const held = ctx.say(w('held', '冻结'));
    return {
      title: w('Accounts', '账户'),
      body: html`<form method="get" action="/console/accounts" class="inline" role="search">\
${searchField(ctx.say(w('Search', '搜索')), q, ctx.say(w('phone, in any form', '手机号（任意写法）')))}\
${submit(ctx.say(w('Search', '搜索')))}</form>
${
  !res
    ? html`<p class="muted">${ctx.say(w('Search for an account by its phone.', '按手机号查找账户。'))}</p>`
    : res.status !== 200
      ? this.error(ctx, res.body)
      : listTable(
          ctx,
          w('Accounts', '账户'),
          [
            w('Account', '账户'),
            w('Phone', '手机号'),
            w('Quick pay', '快捷支付'),
            w('Wallet (held)', '钱包（冻结）'),
            w('Card (held)', '银行卡（冻结）'),
          ],
          res.body.map((a) => [
            html`<a href="/console/accounts/${a.accountId}">${a.accountId}</a>`,
            a.phone,
            a.quickPay ? ctx.say(w('on', '已开通')) : ctx.say(w('off', '未开通')),
            `${cash(a, a.wallet.balanceMinor)} (${held} ${cash(a, a.wallet.heldMinor)})`,
            a.card ? `*${a.card.last4} ${cash(a, a.card.balanceMinor)} (${held} ${cash(a, a.card.heldMinor)})` : '—',
          ]),
          w('No account has this phone.', '没有这个手机号的账户。'),
        )
}`,
    };
  }

  async account(ctx: ConsoleContext): Promise<PageResult> {
    const id = ctx.params.accountId!;
    const res = await ctx.api<AccountView>('GET', `/admin/v1/accounts/${enc(id)}`);
    if (res.status !== 200) return { title: w('Account not found', '找不到账户'), body: this.error(ctx, res.body) };
    const a = res.body;
    const lines = (await ctx.api<LedgerLine[]>('GET', `/admin/v1/accounts/${enc(id)}/entries`)).body;
    const { postings, holds } = ledgerView(lines, {
      wallet: a.wallet.balanceMinor,
      ...(a.card ? { card: a.card.balanceMinor } : {}),
    });
    const m = (n: number) => money(n, a.currency);
    const paymentLink = (ref: string) =>
      ref.startsWith('pay_') ? html`<a href="/console/payments?q=${ref}">${ref}</a>` : ref;
    const HOLD_STATE = {
      open: w('held', '冻结中'),
      captured: w('taken (see the payment)', '已扣款（见扣款明细）'),
      released: w('released', '已解冻'),
    };
    return {
      title: { en: `Account ${id}`, 'zh-CN': `账户 ${id}` },
      body: html`${this.accountFacts(ctx, a)}
<div class="scroll">${listTable(
        ctx,
        w('Money moved, newest first', '资金变动（最新在前）'),
        [
          w('When', '时间'),
          w('Entry', '类型'),
          w('Source', '来源'),
          w('Amount', '金额'),
          w('Balance after', '变动后余额'),
          w('Payment or refund', '关联支付或退款'),
        ],
        postings.map((e) => [
          this.when(ctx, e.at),
          say(LEDGER_KIND, e.kind, ctx.lang),
          say(SOURCE, e.source, ctx.lang),
          html`<span class="num">${m(e.amountMinor)}</span>`,
          html`<span class="num">${m(e.balanceAfterMinor)}</span>`,
          paymentLink(e.ref),
        ]),
        w('No money moved yet.', '还没有资金变动。'),
      )}</div>
<div class="scroll">${listTable(
        ctx,
        w('Holds (money reserved, not moved), newest first', '冻结（仅预留，未扣款，最新在前）'),
        [w('When', '时间'), w('Source', '来源'), w('Reserved', '冻结金额'), w('Now', '当前状态'), w('Payment', '支付')],
        holds.map((h) => [
          this.when(ctx, h.at),
          say(SOURCE, h.source, ctx.lang),
          html`<span class="num">${m(h.amountMinor)}</span>`,
          `${ctx.say(HOLD_STATE[h.state])}${h.resolvedAt ? ` · ${this.when(ctx, h.resolvedAt)}` : ''}`,
          paymentLink(h.ref),
        ]),
        w('No holds.', '没有冻结。'),
      )}</div>`,
    };
  }

  /** An account's phone, quick pay, and its sources' balances with what is held of them. */
  accountFacts(ctx: ConsoleContext, a: AccountView) {
    const m = (n: number) => money(n, a.currency);
    const held = ctx.say(w('held', '冻结'));
    const quickPay = a.quickPay ? ctx.say(w('on', '已开通')) : ctx.say(w('off', '未开通'));
    const card = a.card ? `*${a.card.last4} ${m(a.card.balanceMinor)} · ${held} ${m(a.card.heldMinor)}` : '—';
    const phone = fact(ctx.say(w('Phone', '手机号')), a.phone);
    return html`<dl class="facts">${phone}${fact(ctx.say(w('Quick pay', '快捷支付')), quickPay)}
${fact(ctx.say(w('Wallet', '钱包')), `${m(a.wallet.balanceMinor)} · ${held} ${m(a.wallet.heldMinor)}`, 'wallet')}
${fact(ctx.say(w('Card', '银行卡')), card)}</dl>`;
  }

  /** Which filter a search box's text is: a payment id, an order id, else a phone. */
  readonly searchParam = (q: string): [string, string] =>
    /^pay_/.test(q) ? ['paymentId', q] : /^ord_/.test(q) ? ['orderId', q] : ['phone', q];

  async payments(ctx: ConsoleContext): Promise<PageResult> {
    const q = (ctx.query.q ?? '').trim();
    const status = PAYMENT_STATUSES.includes(ctx.query.status ?? '') ? ctx.query.status! : '';
    const source = Object.keys(SOURCE).includes(ctx.query.source ?? '') ? ctx.query.source! : '';
    const params = new URLSearchParams({ limit: String(PAGE) });
    if (q) params.set(...this.searchParam(q));
    if (status) params.set('status', status);
    if (source) params.set('source', source);
    if (ctx.query.before && !q.startsWith('ord_')) params.set('before', ctx.query.before);
    const res = await ctx.api<PaymentRow[]>('GET', `/admin/v1/payments?${params}`);
    const last = res.status === 200 && res.body.length === PAGE && !q.startsWith('ord_') ? res.body.at(-1) : undefined;
    const next = new URLSearchParams({ q, status, source, before: last?.paymentId ?? '' });
    const hint = ctx.say(w('payment id, order id or phone', '支付编号、订单号或手机号'));
    return {
      title: w('Payments', '支付'),
      body: html`<form method="get" action="/console/payments" class="inline" role="search">\
${searchField(ctx.say(w('Search', '搜索')), q, hint)}
<label>${ctx.say(w('Status', '状态'))}${anySelect(ctx, 'status', PAYMENT_STATUS, PAYMENT_STATUSES, status)}</label>
<label>${ctx.say(w('Source', '来源'))}${anySelect(ctx, 'source', SOURCE, Object.keys(SOURCE), source)}</label>
${submit(ctx.say(w('Search', '搜索')))}</form>
${
  res.status !== 200
    ? this.error(ctx, res.body)
    : html`<div class="scroll">${listTable(
        ctx,
        w('Payments, newest first', '支付（最新在前）'),
        [
          w('Payment', '支付'),
          w('Order', '订单'),
          w('Method', '方式'),
          w('Phone', '手机号'),
          w('Source', '来源'),
          w('Amount', '金额'),
          w('Status', '状态'),
          w('Refunds', '退款'),
          w('Created', '时间'),
        ],
        res.body.map((p) => this.paymentRow(ctx, p)),
        q ? w('No payment matches.', '没有符合条件的支付。') : w('No payments yet.', '还没有支付。'),
      )}</div>`
}
${last ? html`<p><a href="/console/payments?${next}">${ctx.say(w('Next page', '下一页'))}</a></p>` : ''}`,
    };
  }

  readonly paymentRow = (ctx: ConsoleContext, p: PaymentRow) => [
    html`<span data-testid="payment-id">${p.paymentId}</span>`,
    p.orderId,
    say(METHOD, p.method, ctx.lang),
    maskPhone(p.phone),
    p.railTrade?.providerTradeNo
      ? html`${say(SOURCE, p.source, ctx.lang)}<br><span class="muted" \
title="${ctx.say(w("the rail's trade number", '渠道交易号'))}" \
data-testid="provider-trade-no">${p.railTrade.providerTradeNo}</span>`
      : say(SOURCE, p.source, ctx.lang),
    money(p.amountMinor, p.currency),
    `${say(PAYMENT_STATUS, p.status, ctx.lang)}${p.failureCode ? ` · ${say(FAILURE, p.failureCode, ctx.lang)}` : ''}`,
    p.refunds.length
      ? html`<ul>${p.refunds.map(
          (r) =>
            html`<li>${r.refundId} ${money(-r.amountMinor, p.currency)} ${say(REFUND_STATUS, r.status, ctx.lang)}</li>`,
        )}</ul>`
      : '—',
    this.when(ctx, p.createdAt),
  ];

  /** A statement line (the CSV's columns) for people: words, yuan with the sign of the money's way, local time. */
  readonly statementRow = (ctx: ConsoleContext, r: Record<string, string | number>) => {
    const refund = r.type === 'refund';
    const amount = Number(r.amount_minor);
    return [
      refund ? ctx.say(w('refund', '退款')) : ctx.say(w('payment', '收款')),
      r.payment_id ? html`<a href="/console/payments?q=${String(r.payment_id)}">${String(r.payment_id)}</a>` : '—',
      String(r.refund_id || '—'),
      String(r.order_id ?? ''),
      html`<span class="num">${money(refund ? -amount : amount, String(r.currency))}</span>`,
      say(SOURCE, String(r.source ?? ''), ctx.lang),
      this.when(ctx, String(r.at)),
    ];
  };

  async statements(ctx: ConsoleContext): Promise<PageResult> {
    const date = /^\d{4}-\d{2}-\d{2}$/.test(ctx.query.date ?? '') ? ctx.query.date! : undefined;
    const rows = date
      ? await ctx.api<Array<Record<string, string | number>>>('GET', `/admin/v1/statements/${date}?format=json`)
      : undefined;
    const audit = (await ctx.api<LedgerAudit>('GET', '/admin/v1/ledger/audit')).body;
    const download = (day: string) =>
      html`<p><a href="/console/statements/${day}.csv" download>${ctx.say({
        en: `Download ${day} as CSV`,
        'zh-CN': `下载 ${day} 的 CSV`,
      })}</a></p>`;
    return {
      title: w('Statements', '对账单'),
      body: html`${this.auditSection(ctx, audit)}
<h2>${ctx.say(w('Daily statement', '日对账单'))}</h2><form method="get" action="/console/statements" class="inline">\
<label>${ctx.say(w('Business day', '营业日'))}<input name="date" type="date" value="${date ?? ''}" required></label>\
${submit(ctx.say(w('Show', '查看')))}</form>
${date ? download(date) : ''}
${
  rows && rows.status !== 200
    ? this.error(ctx, rows.body)
    : rows
      ? html`<div class="scroll">${listTable(
          ctx,
          { en: `Statement of ${date}`, 'zh-CN': `${date} 对账单` },
          [
            w('Money movement', '类型'),
            w('Payment', '支付'),
            w('Refund', '退款'),
            w('Order', '订单'),
            w('Amount', '金额'),
            w('Source', '来源'),
            w('Time', '时间'),
          ],
          rows.body.map((r) => this.statementRow(ctx, r)),
          w('Nothing moved that day.', '当天没有资金变动。'),
        )}</div>`
      : ''
}`,
    };
  }

  /** The ledger audit: sound (entries sum to zero, holds and balances as posted), else each problem found. */
  auditSection(ctx: ConsoleContext, audit: LedgerAudit) {
    const said = audit.ok
      ? ctx.say({
          en: `Sound: ${audit.entries} entries over ${audit.accounts} accounts sum to zero; \
holds and balances are as posted.`,
          'zh-CN': `正常：${audit.accounts} 个账户的 ${audit.entries} 笔分录借贷平衡，冻结与余额一致。`,
        })
      : ctx.say({ en: `${audit.problems.length} problems found.`, 'zh-CN': `发现 ${audit.problems.length} 个问题。` });
    const problem = (p: LedgerAudit['problems'][number]) =>
      html`<li><strong>${say(AUDIT_PROBLEM, p.kind, ctx.lang)}</strong> ${p.id}${
        ctx.lang === 'en' ? `: ${p.detail}` : ''
      }</li>`;
    const problems = audit.problems.length ? html`<ul>${audit.problems.map(problem)}</ul>` : '';
    const name = ctx.say(w('Ledger audit', '账本审计'));
    return html`<section aria-label="${name}"><h2>${name}</h2>\
<p class="${audit.ok ? 'ok' : 'error'}" data-testid="audit">${said}</p>
${problems}</section>`;
  }

  /**
   * Each rail that is on: its mode, its clearing accounts' balances in the ledger (what the rail holds for
   * tvpay), and for the day asked, the rail's reconciliation against its bill. A payment server without
   * the reconciliation route says so and still shows the balances.
   */
  async rails(ctx: ConsoleContext): Promise<PageResult> {
    const today = businessDate(new Date(), this.o.timeZone);
    const date = /^\d{4}-\d{2}-\d{2}$/.test(ctx.query.date ?? '') ? ctx.query.date! : undefined;
    const res = await ctx.api<RailRow[]>('GET', '/admin/v1/rails');
    if (res.status !== 200) return { title: w('Rails', '支付渠道'), body: this.error(ctx, res.body) };
    const sections = await Promise.all(res.body.map((r) => this.railSection(ctx, r, date)));
    return {
      title: w('Rails', '支付渠道'),
      body: html`<form method="get" action="/console/rails" class="inline">\
<label>${ctx.say(w('Reconcile the day', '对账日期'))}\
<input name="date" type="date" value="${date ?? today}" required></label>\
${submit(ctx.say(w('Reconcile', '对账')))}</form>
${res.body.length ? sections : html`<p>${ctx.say(w('No rail is on.', '没有开启的支付渠道。'))}</p>`}`,
    };
  }

  async railSection(ctx: ConsoleContext, r: RailRow, date: string | undefined) {
    const name = say(SOURCE, r.rail, ctx.lang);
    const mode =
      r.mode === 'dev'
        ? ctx.say(w('development gateway: no real money moves', '开发网关：不会产生真实资金'))
        : ctx.say(w('live', '正式'));
    const balances = listTable(
      ctx,
      w(`${name}: clearing accounts`, `${name}：清算账户`),
      [w('Currency', '币种'), w('Held by the rail for tvpay', '渠道代收待结算')],
      r.clearing.map((c) => [c.currency, money(-c.balanceMinor, c.currency)]),
      w('Nothing taken by this rail yet.', '该渠道尚未收款。'),
    );
    const reconciled = date ? await this.reconciliation(ctx, r.rail, date) : '';
    return html`<section aria-label="${name}" data-testid="rail-${r.rail}"><h2>${name}</h2>\
<p class="muted">${mode}</p>${balances}${reconciled}</section>`;
  }

  async reconciliation(ctx: ConsoleContext, rail: string, date: string) {
    const res = await ctx.api<RailReconciliation>('GET', `/admin/v1/rails/${enc(rail)}/reconciliations/${date}`);
    if (res.status === 404) return html`<p class="muted" data-testid="reconciliation">${ctx.say(NO_RECONCILING)}</p>`;
    if (res.status !== 200) return this.error(ctx, res.body);
    const count = (v: unknown) => (Array.isArray(v) ? v.length : Number(v ?? 0));
    const facts = RECONCILED.map(([k, label]) => fact(ctx.say(label), String(count(res.body[k]))));
    return html`<dl class="facts" data-testid="reconciliation">${facts}</dl>`;
  }
}

export function payserverConsole(app: FastifyInstance, o: ConsoleSetup): void {
  const pages = new PayserverConsolePages(o);
  mountConsole(app, {
    ...o,
    cookie: 'tvpay_payserver_console',
    name: w('tvpay payment server console', 'tvpay 钱包服务控制台'),
    nav: navigation({
      '/accounts': w('Accounts', '账户'),
      '/payments': w('Payments', '支付'),
      '/statements': w('Statements', '对账单'),
      '/rails': w('Rails', '支付渠道'),
      '/agreements': w('Agreements', '快捷支付协议'),
    }),
    pages: {
      '/accounts': (ctx) => pages.accounts(ctx),
      '/accounts/:accountId': (ctx) => pages.account(ctx),
      '/payments': (ctx) => pages.payments(ctx),
      '/statements': (ctx) => pages.statements(ctx),
      '/rails': (ctx) => pages.rails(ctx),
      '/agreements': (ctx) => agreementsPage(ctx, o.timeZone),
    },
    actions: { '/agreements/:externalAgreementNo/end': (ctx) => endAgreement(ctx) },
    downloads: {
      '/statements/:file': async (ctx) => {
        const m = /^(\d{4}-\d{2}-\d{2})\.csv$/.exec(ctx.params.file ?? '');
        if (!m) return { status: 404, type: 'text/plain; charset=utf-8', body: 'Not found', name: 'statement.csv' };
        const res = await ctx.api<string>('GET', `/admin/v1/statements/${m[1]}`);
        return {
          status: res.status,
          type: 'text/csv; charset=utf-8',
          body: typeof res.body === 'string' ? res.body : JSON.stringify(res.body),
          name: `tvpay-statement-${m[1]}.csv`,
        };
      },
    },
  });
}

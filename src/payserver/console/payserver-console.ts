import type { FastifyInstance } from 'fastify';
import {
  at,
  mountConsole,
  type ConsoleSetup,
  problemText,
  table,
  type ConsoleContext,
  type PageResult,
  type Words,
} from '../../lib/console/console-app.ts';
import { html } from '../../lib/html.ts';
import { formatPrice } from '../../lib/money-format.ts';
import type { AccountView } from '../accounts/accounts-service.ts';

const w = (en: string, zh: string): Words => ({ en, 'zh-CN': zh });
const enc = encodeURIComponent;

/** The wallet provider's console of the payment server (API "Console"), over the payment server's admin API. */
export function payserverConsole(app: FastifyInstance, o: ConsoleSetup): void {
  const when = (ctx: ConsoleContext, iso: string | null | undefined) => at(iso, ctx.lang, o.timeZone);
  const error = (body: unknown) => html`<p class="error" role="alert">${problemText(body as never)}</p>`;

  async function accounts(ctx: ConsoleContext): Promise<PageResult> {
    const q = (ctx.query.q ?? '').trim();
    const res = q ? await ctx.api<AccountView[]>('GET', `/admin/v1/accounts?phone=${enc(q)}`) : undefined;
    const money = (a: AccountView, m: number) => formatPrice(m, a.currency);
    return {
      title: w('Accounts', '账户'),
      body: html`<form method="get" action="/console/accounts" class="inline" role="search"><label>${ctx.say(w('Search', '搜索'))}<input name="q" type="search" value="${q}" placeholder="${ctx.say(w('phone, in any form', '手机号（任意写法）'))}"></label><button type="submit">${ctx.say(w('Search', '搜索'))}</button></form>
${
  !res
    ? html`<p class="muted">${ctx.say(w('Search for an account by its phone.', '按手机号查找账户。'))}</p>`
    : res.status !== 200
      ? error(res.body)
      : table(
          ctx.say(w('Accounts', '账户')),
          [
            ctx.say(w('Account', '账户')),
            ctx.say(w('Phone', '手机号')),
            ctx.say(w('Quick pay', '快捷支付')),
            ctx.say(w('Wallet (held)', '钱包（冻结）')),
            ctx.say(w('Card (held)', '银行卡（冻结）')),
          ],
          res.body.map((a) => [
            html`<a href="/console/accounts/${a.accountId}">${a.accountId}</a>`,
            a.phone,
            a.quickPay ? ctx.say(w('on', '已开通')) : ctx.say(w('off', '未开通')),
            `${money(a, a.wallet.balanceMinor)} (${money(a, a.wallet.heldMinor)})`,
            a.card ? `*${a.card.last4} ${money(a, a.card.balanceMinor)} (${money(a, a.card.heldMinor)})` : '—',
          ]),
          ctx.say(w('No account has this phone.', '没有这个手机号的账户。')),
        )
}`,
    };
  }

  async function account(ctx: ConsoleContext): Promise<PageResult> {
    const id = ctx.params.accountId!;
    const res = await ctx.api<AccountView>('GET', `/admin/v1/accounts/${enc(id)}`);
    if (res.status !== 200) return { title: w('Account not found', '找不到账户'), body: error(res.body) };
    const a = res.body;
    const entries = (
      await ctx.api<Array<{ at: string; kind: string; source: string; amountMinor: number; ref: string }>>(
        'GET',
        `/admin/v1/accounts/${enc(id)}/entries`,
      )
    ).body;
    const money = (m: number) => formatPrice(m, a.currency);
    return {
      title: { en: `Account ${id}`, 'zh-CN': `账户 ${id}` },
      body: html`<dl class="facts"><dt>${ctx.say(w('Phone', '手机号'))}</dt><dd>${a.phone}</dd><dt>${ctx.say(w('Quick pay', '快捷支付'))}</dt><dd>${a.quickPay ? ctx.say(w('on', '已开通')) : ctx.say(w('off', '未开通'))}</dd>
<dt>${ctx.say(w('Wallet', '钱包'))}</dt><dd data-testid="wallet">${money(a.wallet.balanceMinor)} · ${ctx.say(w('held', '冻结'))} ${money(a.wallet.heldMinor)}</dd>
<dt>${ctx.say(w('Card', '银行卡'))}</dt><dd>${a.card ? `*${a.card.last4} ${money(a.card.balanceMinor)} · ${ctx.say(w('held', '冻结'))} ${money(a.card.heldMinor)}` : '—'}</dd></dl>
${table(
  ctx.say(w('Ledger entries, newest first', '账务明细（最新在前）')),
  [
    ctx.say(w('When', '时间')),
    ctx.say(w('Entry', '类型')),
    ctx.say(w('Source', '来源')),
    ctx.say(w('Amount', '金额')),
    ctx.say(w('Reference', '关联')),
  ],
  entries.map((e) => [
    when(ctx, e.at),
    e.kind,
    e.source,
    money(e.amountMinor),
    e.ref.startsWith('pay_') ? html`<a href="/console/payments?q=${e.ref}">${e.ref}</a>` : e.ref,
  ]),
  ctx.say(w('No entries.', '没有明细。')),
)}`,
    };
  }

  async function payments(ctx: ConsoleContext): Promise<PageResult> {
    const q = (ctx.query.q ?? '').trim();
    const res = q
      ? await ctx.api<
          Array<{
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
          }>
        >('GET', `/admin/v1/payments?orderId=${enc(q)}`)
      : undefined;
    return {
      title: w('Payments', '支付'),
      body: html`<form method="get" action="/console/payments" class="inline" role="search"><label>${ctx.say(w('Order', '订单号'))}<input name="q" type="search" value="${q}"></label><button type="submit">${ctx.say(w('Search', '搜索'))}</button></form>
${
  !res
    ? html`<p class="muted">${ctx.say(w("An order's payments and their refunds, by the order id.", '按订单号查看支付及其退款。'))}</p>`
    : res.status !== 200
      ? error(res.body)
      : table(
          ctx.say(w('Payments', '支付')),
          [
            ctx.say(w('Payment', '支付')),
            ctx.say(w('Method', '方式')),
            ctx.say(w('Phone', '手机号')),
            ctx.say(w('Source', '来源')),
            ctx.say(w('Amount', '金额')),
            ctx.say(w('Status', '状态')),
            ctx.say(w('Refunds', '退款')),
            ctx.say(w('Created', '时间')),
          ],
          res.body.map((p) => [
            p.paymentId,
            p.method,
            p.phone,
            p.source ?? '—',
            formatPrice(p.amountMinor, p.currency),
            `${p.status}${p.failureCode ? ` (${p.failureCode})` : ''}`,
            p.refunds.length
              ? html`<ul>${p.refunds.map((r) => html`<li>${r.refundId} ${formatPrice(r.amountMinor, p.currency)} ${r.status}</li>`)}</ul>`
              : '—',
            when(ctx, p.createdAt),
          ]),
          ctx.say(w('No payments for this order.', '这个订单没有支付。')),
        )
}`,
    };
  }

  async function statements(ctx: ConsoleContext): Promise<PageResult> {
    const date = /^\d{4}-\d{2}-\d{2}$/.test(ctx.query.date ?? '') ? ctx.query.date! : undefined;
    const rows = date
      ? await ctx.api<Array<Record<string, string | number>>>('GET', `/admin/v1/statements/${date}?format=json`)
      : undefined;
    const audit = (
      await ctx.api<{
        ok: boolean;
        entries: number;
        accounts: number;
        problems: Array<{ kind: string; id: string; detail: string }>;
      }>('GET', '/admin/v1/ledger/audit')
    ).body;
    const cols = rows?.status === 200 && rows.body[0] ? Object.keys(rows.body[0]) : [];
    return {
      title: w('Statements', '对账单'),
      body: html`<section aria-label="${ctx.say(w('Ledger audit', '账本审计'))}"><h2>${ctx.say(w('Ledger audit', '账本审计'))}</h2><p class="${audit.ok ? 'ok' : 'error'}" data-testid="audit">${
        audit.ok
          ? ctx.say({
              en: `Sound: ${audit.entries} entries over ${audit.accounts} accounts sum to zero; holds and balances are as posted.`,
              'zh-CN': `正常：${audit.accounts} 个账户的 ${audit.entries} 笔分录借贷平衡，冻结与余额一致。`,
            })
          : ctx.say({
              en: `${audit.problems.length} problems found.`,
              'zh-CN': `发现 ${audit.problems.length} 个问题。`,
            })
      }</p>
${audit.problems.length ? html`<ul>${audit.problems.map((p) => html`<li><strong>${p.kind}</strong> ${p.id}: ${p.detail}</li>`)}</ul>` : ''}</section>
<h2>${ctx.say(w('Daily statement', '日对账单'))}</h2><form method="get" action="/console/statements" class="inline"><label>${ctx.say(w('Business day', '营业日'))}<input name="date" type="date" value="${date ?? ''}" required></label><button type="submit">${ctx.say(w('Show', '查看'))}</button></form>
${date ? html`<p><a href="/console/statements/${date}.csv" download>${ctx.say({ en: `Download ${date} as CSV`, 'zh-CN': `下载 ${date} 的 CSV` })}</a></p>` : ''}
${
  rows && rows.status !== 200
    ? error(rows.body)
    : rows
      ? table(
          ctx.say({ en: `Statement of ${date}`, 'zh-CN': `${date} 对账单` }),
          cols,
          rows.body.map((r) => cols.map((c) => String(r[c] ?? ''))),
          ctx.say(w('Nothing moved that day.', '当天没有资金变动。')),
        )
      : ''
}`,
    };
  }

  mountConsole(app, {
    ...o,
    cookie: 'tvpay_payserver_console',
    name: w('tvpay payment server console', 'tvpay 钱包服务控制台'),
    nav: [
      { path: '/accounts', label: w('Accounts', '账户') },
      { path: '/payments', label: w('Payments', '支付') },
      { path: '/statements', label: w('Statements', '对账单') },
    ],
    pages: { '/accounts': accounts, '/accounts/:accountId': account, '/payments': payments, '/statements': statements },
    actions: {},
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

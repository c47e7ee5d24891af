import { alertLine, button, listTable, searchField, submit } from '../../lib/console/console-parts.ts';
import { at, noticeOf, type ConsoleContext, type PageResult, type Words } from '../../lib/console/console-app.ts';
import { problemSay, say, SOURCE } from '../../lib/console/console-words.ts';
import { html } from '../../lib/html.ts';
import type { AgreementView } from '../agreements/agreements.ts';

const w = (en: string, zh: string): Words => ({ en, 'zh-CN': zh });
const enc = encodeURIComponent;

const STATUS: Record<AgreementView['status'], Words> = {
  signing: w('asked for, not yet signed', '签约中'),
  active: w('active', '生效'),
  ended: w('ended', '已解约'),
};
const ENDED_BY: Record<string, Words> = {
  rail: w('by the payer or the rail', '用户或渠道解约'),
  operator: w('by an operator', '运营人员解约'),
};
const NOTICES = { ended: w('Agreement ended: the rail was told.', '已解约，并已通知支付渠道。') };

/**
 * The wallet provider's quick-pay agreements at the rails (`/console/agreements`): a phone's, or the newest,
 * each with its rail, status and the rail's number, and an action that ends an active one (unsigned at the
 * rail first, through `POST /admin/v1/agreements/{no}/end`).
 */
export async function agreementsPage(ctx: ConsoleContext, timeZone: string): Promise<PageResult> {
  const q = (ctx.query.q ?? '').trim();
  const res = await ctx.api<AgreementView[]>('GET', `/admin/v1/agreements?${q ? `phone=${enc(q)}&` : ''}limit=50`);
  const end = (a: AgreementView) =>
    a.status === 'active'
      ? html`<form method="post" action="/console/agreements/${a.externalAgreementNo}/end">\
${button(ctx.say(w('End it', '解约')), 'danger')}</form>`
      : '';
  return {
    title: w('Quick-pay agreements', '快捷支付协议'),
    body: html`${noticeOf(ctx, NOTICES)}<form method="get" action="/console/agreements" class="inline" role="search">\
${searchField(ctx.say(w('Phone', '手机号')), q)}${submit(ctx.say(w('Search', '搜索')))}</form>
${
  res.status !== 200
    ? alertLine(problemSay((res.body ?? {}) as never, ctx.lang))
    : html`<div class="scroll">${listTable(
        ctx,
        w('Agreements at the rails, newest first', '支付渠道的快捷支付协议（最新在前）'),
        [
          w('Agreement', '协议号'),
          w('Rail', '渠道'),
          w('Phone', '手机号'),
          w('Status', '状态'),
          w("Rail's number", '渠道协议号'),
          w('Signed', '签约时间'),
          w('Ended', '解约时间'),
          '',
        ],
        res.body.map((a) => [
          a.externalAgreementNo,
          say(SOURCE, a.rail, ctx.lang),
          a.phone,
          ctx.say(STATUS[a.status]),
          a.agreementNo ?? '—',
          a.signedAt ? at(a.signedAt, ctx.lang, timeZone) : '—',
          a.endedAt ? `${at(a.endedAt, ctx.lang, timeZone)} · ${ctx.say(ENDED_BY[a.endedBy ?? ''] ?? w('', ''))}` : '—',
          end(a),
        ]),
        w('No agreements.', '没有协议。'),
      )}</div>`
}`,
  };
}

/** The console's action: ends an agreement, then back to the list with what happened. */
export async function endAgreement(ctx: ConsoleContext): Promise<PageResult> {
  const no = ctx.params.externalAgreementNo!;
  const res = await ctx.api<unknown>('POST', `/admin/v1/agreements/${enc(no)}/end`);
  return {
    redirect:
      res.status < 300
        ? '/console/agreements?notice=ended'
        : `/console/agreements?error=${enc(problemSay((res.body ?? {}) as never, ctx.lang))}`,
  };
}

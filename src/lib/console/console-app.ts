import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Clock } from '../clock.ts';
import { html, page, type Html } from '../html.ts';
import { secretEquals, type RandomSource } from '../ids.ts';
import { formatTime } from '../time-format.ts';
import { sendDocument } from '../http/security-headers.ts';
import { CONSOLE_CSS } from './console-style.ts';
import { consoleSessions, SESSION_SECONDS } from './console-session.ts';

export type ConsoleLang = 'zh-CN' | 'en';

/** Words in both languages; the console speaks the browser's. */
export type Words = { en: string; 'zh-CN': string };

/** What a console page is given: its language, the admin API (as the operator), the query and the form. */
export interface ConsoleContext {
  lang: ConsoleLang;
  say(w: Words): string;
  /** Calls this service's admin API with the admin token, in process: the console is a client of the contract like any other. */
  api<T = any>(
    method: string,
    url: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: T }>;
  query: Record<string, string | undefined>;
  params: Record<string, string>;
  form: Record<string, string | undefined>;
  reply: FastifyReply;
}

/** A page answers its content (under its heading), or a redirect after a form post. */
export type PageResult = { title: Words; body: Html } | { redirect: string };
export type ConsolePage = (ctx: ConsoleContext) => Promise<PageResult>;

export interface ConsoleOptions {
  /** The service's name in the header. */
  name: Words;
  adminToken: string;
  random: RandomSource;
  clock: Clock;
  nav: Array<{ path: string; label: Words }>;
  /** A search box in the header on every page (a GET form to this path, field `q`). */
  search?: { path: string; label: Words; placeholder: Words };
  /** GET pages and POST actions by path under /console (e.g. `/orders/:orderId`). */
  pages: Record<string, ConsolePage>;
  actions: Record<string, ConsolePage>;
  /** Files to download (a statement's CSV), behind the same sign-in. */
  downloads?: Record<
    string,
    (ctx: ConsoleContext) => Promise<{ status: number; type: string; body: string; name: string }>
  >;
}

const COOKIE = 'tvpay_console';
/** A console form: named text fields; each action reads the ones it knows. */
const FormBody = Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 2000 }));
const SignInBody = Type.Object({ token: Type.String({ maxLength: 512 }) });

function langOf(request: FastifyRequest): ConsoleLang {
  return /^en/i.test(String(request.headers['accept-language'] ?? '')) ? 'en' : 'zh-CN';
}

const send = (reply: FastifyReply, status: number, body: string) =>
  sendDocument(reply.code(status).header('cache-control', 'no-store'), body);

/**
 * An operator's console at /console/: a web app for people over the service's own admin API.
 * Signing in takes the admin token in a form (never in a URL) and gives an `HttpOnly`,
 * `SameSite=Strict` session cookie that expires; every page is plain HTML that works by keyboard
 * and without JavaScript, in the browser's language.
 */
export function mountConsole(app: FastifyInstance, o: ConsoleOptions): void {
  const sessions = consoleSessions(o.adminToken, () => o.random.token());
  const signedIn = (request: FastifyRequest) => sessions.valid(request.cookies[COOKIE], o.clock.now());
  const cookie = (request: FastifyRequest) => ({
    path: '/console',
    httpOnly: true,
    sameSite: 'strict' as const,
    secure: request.protocol === 'https',
  });

  const layout = (lang: ConsoleLang, title: string, body: Html, withNav: boolean) =>
    page({
      title: `${title} · ${o.name[lang]}`,
      lang,
      css: CONSOLE_CSS,
      // No icon to fetch (and no 404 in every page's console).
      head: html`<link rel="icon" href="data:,">`,
      body: html`<div class="console"><header><strong>${o.name[lang]}</strong>${
        withNav
          ? html`<nav aria-label="${lang === 'en' ? 'Console' : '控制台'}">${o.nav.map((n) => html`<a href="/console${n.path}">${n.label[lang]}</a>`)}</nav>
${o.search ? html`<form method="get" action="/console${o.search.path}" class="search"><input name="q" type="search" aria-label="${o.search.label[lang]}" placeholder="${o.search.placeholder[lang]}" maxlength="64"></form>` : ''}
<form method="post" action="/console/sign-out"><button type="submit" class="link">${lang === 'en' ? 'Sign out' : '退出'}</button></form>`
          : ''
      }</header><main><h1>${title}</h1>${body}</main></div>`,
    });

  const signInPage = (lang: ConsoleLang, failed: boolean) =>
    layout(
      lang,
      lang === 'en' ? 'Sign in' : '登录',
      html`${failed ? html`<p class="error" role="alert">${lang === 'en' ? 'That is not the admin token.' : '管理令牌不正确。'}</p>` : ''}
<form method="post" action="/console/sign-in" class="card narrow"><label for="token">${lang === 'en' ? 'Admin token' : '管理令牌'}</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">${lang === 'en' ? 'Sign in' : '登录'}</button></form>`,
      false,
    );

  app.get('/console/sign-in', { schema: { hide: true } }, async (request, reply) =>
    send(reply, 200, signInPage(langOf(request), false)),
  );
  app.post<{ Body: { token?: string } }>(
    '/console/sign-in',
    { schema: { hide: true, body: SignInBody } },
    async (request, reply) => {
      const token = typeof request.body?.token === 'string' ? request.body.token : '';
      if (!token || !secretEquals(token, o.adminToken)) return send(reply, 401, signInPage(langOf(request), true));
      reply.setCookie(COOKIE, sessions.issue(o.clock.now()), { ...cookie(request), maxAge: SESSION_SECONDS });
      return reply.redirect('/console/', 303);
    },
  );
  app.post('/console/sign-out', { schema: { hide: true } }, async (request, reply) => {
    reply.clearCookie(COOKIE, cookie(request));
    return reply.redirect('/console/sign-in', 303);
  });
  app.get('/console', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/console/', 301));
  app.get('/console/', { schema: { hide: true } }, async (request, reply) =>
    reply.redirect(signedIn(request) ? `/console${o.nav[0]!.path}` : '/console/sign-in', 303),
  );

  const context = (request: FastifyRequest, reply: FastifyReply): ConsoleContext => {
    const lang = langOf(request);
    return {
      lang,
      say: (w) => w[lang],
      api: async (method, url, body, headers = {}) => {
        const res = await app.inject({
          method: method as 'GET',
          url,
          headers: {
            authorization: `Bearer ${o.adminToken}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            ...headers,
          },
          ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
        });
        const type = String(res.headers['content-type'] ?? '');
        return { status: res.statusCode, body: (type.includes('json') ? res.json() : res.body) as never };
      },
      query: (request.query ?? {}) as Record<string, string | undefined>,
      params: (request.params ?? {}) as Record<string, string>,
      form: (request.body && typeof request.body === 'object' ? request.body : {}) as Record<
        string,
        string | undefined
      >,
      reply,
    };
  };

  const serve =
    (handler: ConsolePage, method: 'GET' | 'POST') => async (request: FastifyRequest, reply: FastifyReply) => {
      if (!signedIn(request))
        return method === 'GET'
          ? reply.redirect('/console/sign-in', 303)
          : send(reply, 401, signInPage(langOf(request), false));
      const ctx = context(request, reply);
      const result = await handler(ctx);
      if ('redirect' in result) return reply.redirect(result.redirect, 303);
      return send(reply, 200, layout(ctx.lang, result.title[ctx.lang], result.body, true));
    };
  for (const [path, handler] of Object.entries(o.pages))
    app.get(`/console${path}`, { schema: { hide: true } }, serve(handler, 'GET'));
  for (const [path, handler] of Object.entries(o.actions))
    app.post(`/console${path}`, { schema: { hide: true, body: FormBody } }, serve(handler, 'POST'));
  for (const [path, file] of Object.entries(o.downloads ?? {})) {
    app.get(`/console${path}`, { schema: { hide: true } }, async (request, reply) => {
      if (!signedIn(request)) return reply.redirect('/console/sign-in', 303);
      const f = await file(context(request, reply));
      return reply
        .code(f.status)
        .header('cache-control', 'no-store')
        .header('content-disposition', `attachment; filename="${f.name}"`)
        .type(f.type)
        .send(f.body);
    });
  }
}

/** A notice after an action, carried in the redirect as a fixed key (never text a user typed). */
export function noticeOf(ctx: ConsoleContext, notices: Record<string, Words>): Html | '' {
  const n = ctx.query.notice;
  const error = ctx.query.error;
  if (error)
    return html`<p class="error" role="alert">${ctx.say({ en: 'Not done: ', 'zh-CN': '未完成：' })}${error}</p>`;
  return n && notices[n] ? html`<p class="ok" role="status">${ctx.say(notices[n])}</p>` : '';
}

/** A table with a caption; `cells` are already escaped (Html) or text. */
export function table(
  caption: string,
  head: string[],
  rows: Array<Array<Html | string | number>>,
  empty: string,
): Html {
  if (rows.length === 0) return html`<p class="muted">${empty}</p>`;
  return html`<table><caption>${caption}</caption><thead><tr>${head.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead>
<tbody>${rows.map((r) => html`<tr>${r.map((c) => html`<td>${c}</td>`)}</tr>`)}</tbody></table>`;
}

/** A time for people, in the business time zone, to the second; a dash for none. */
export function at(iso: string | null | undefined, lang: ConsoleLang, timeZone: string): string {
  return iso ? formatTime(iso, lang, timeZone, true) : '—';
}

/** What both consoles are set up with. */
export interface ConsoleSetup {
  adminToken: string;
  random: RandomSource;
  clock: Clock;
  /** The business time zone, for every time shown. */
  timeZone: string;
}

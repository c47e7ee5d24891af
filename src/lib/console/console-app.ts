import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Clock } from '../clock.ts';
import type { Kysely } from 'kysely';
import type { CommonTables } from '../db/common-tables.ts';
import { esc, html, page, type Html } from '../html.ts';
import { secretEquals, type RandomSource } from '../ids.ts';
import { problem, sendProblem } from '../http/problem.ts';
import { sendDocument } from '../http/security-headers.ts';
import type { RateLimiter, RateRule } from '../rate-limiter.ts';
import { formatTime } from '../time-format.ts';
import { foreignOrigin } from './console-guard.ts';
import { CONSOLE_CSS } from './console-style.ts';
import { ConsoleSessions, FORM_TOKEN_FIELD, formToken, formTokenMatches, SESSION_SECONDS } from './console-session.ts';

export type ConsoleLang = 'zh-CN' | 'en';

/** Words in both languages; the console speaks the browser's. */
export type Words = { en: string; 'zh-CN': string };

/** What a console page is given: its language, the admin API (as the operator), the query and the form. */
export interface ConsoleContext {
  lang: ConsoleLang;
  say(w: Words): string;
  /**
   * Calls this service's admin API with the admin token, in process: the console is a client of the contract like any
   * other.
   */
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

/** A console: its service's setup (the business time zone is its pages' own), and its name, pages and forms. */
export interface ConsoleOptions extends Omit<ConsoleSetup, 'timeZone'> {
  /** The service's name in the header. */
  name: Words;
  /** The session cookie's name, this console's own (one console's cookie never reaches the other). */
  cookie: string;
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

/** A console form: named text fields; each action reads the ones it knows. */
const FormBody = Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 2000 }));
const SignInBody = Type.Object({ token: Type.String({ maxLength: 512 }) });

/** Wrong sign-ins one address may try per window; a right one gives its try back. */
export const SIGN_IN_RULE: RateRule = {
  what: 'Too many sign-in attempts from this address',
  limit: 10,
  windowSeconds: 600,
};

function langOf(request: FastifyRequest): ConsoleLang {
  return /^en/i.test(String(request.headers['accept-language'] ?? '')) ? 'en' : 'zh-CN';
}

const send = (reply: FastifyReply, status: number, body: string) =>
  sendDocument(reply.code(status).header('cache-control', 'no-store'), body);

/** Puts the session's anti-forgery token into every form that posts, so no page can forget it. */
const withFormToken = (document: string, token: string) =>
  document.replace(
    /<form\b[^>]*\bmethod\s*=\s*["']?post\b[^>]*>/gi,
    (tag) => `${tag}<input type="hidden" name="${FORM_TOKEN_FIELD}" value="${esc(token)}">`,
  );

/** The 403 of a form that did not come from the console's own page; nothing was done. */
const refuse = (reply: FastifyReply, why: string) =>
  sendProblem(
    reply.header('cache-control', 'no-store'),
    problem(
      403,
      'CONSOLE_FORM_REFUSED',
      `Nothing was done: ${why}. Open the console's page yourself and submit its form from there.`,
    ),
  );

/**
 * An operator's console at /console/: a web app for people over the service's own admin API.
 * Signing in takes the admin token in a form (never in a URL) and starts a session stored on the
 * server, given as an `HttpOnly`, `SameSite=Strict` cookie of this console's own name (`Secure` over
 * https); every page is plain HTML that works by keyboard and without JavaScript, in the browser's
 * language. Every state-changing request must come from the console's own origin and carry the
 * session's anti-forgery token, or it is refused (403) before anything is done.
 */
export function mountConsole(app: FastifyInstance, o: ConsoleOptions): void {
  const sessions = new ConsoleSessions(o.db, () => o.random.token());
  /** The request's session id, when its cookie holds a live session. */
  const sessionOf = async (request: FastifyRequest) => {
    const id = request.cookies[o.cookie];
    return id && (await sessions.valid(id, o.clock.now())) ? id : undefined;
  };
  const layout = consoleLayout(o);
  mountSignIn(app, o, sessions, layout);

  const context = (request: FastifyRequest, reply: FastifyReply) => consoleContext(app, o, request, reply);

  const serve =
    (handler: ConsolePage, method: 'GET' | 'POST') => async (request: FastifyRequest, reply: FastifyReply) => {
      const session = await sessionOf(request);
      const forged = method === 'POST' ? forgery(request, o.publicUrl, session) : undefined;
      if (forged) return refuse(reply, forged);
      if (!session)
        return method === 'GET'
          ? reply.redirect('/console/sign-in', 303)
          : send(reply, 401, layout.signIn(langOf(request), 'first'));
      const ctx = context(request, reply);
      const result = await handler(ctx);
      if ('redirect' in result) return reply.redirect(result.redirect, 303);
      const alert = await deadLettersAlert(o.db, ctx);
      const document = layout.page(ctx.lang, result.title[ctx.lang], html`${alert}${result.body}`, true);
      return send(reply, 200, withFormToken(document, formToken(session)));
    };
  app.get('/console/', { schema: { hide: true } }, async (request, reply) =>
    reply.redirect((await sessionOf(request)) ? `/console${o.nav[0]!.path}` : '/console/sign-in', 303),
  );
  app.post('/console/sign-out', { schema: { hide: true, body: FormBody } }, async (request, reply) => {
    const session = await sessionOf(request);
    const forged = forgery(request, o.publicUrl, session);
    if (forged) return refuse(reply, forged);
    if (session) await sessions.end(session);
    reply.clearCookie(o.cookie, cookieOptions(request));
    return reply.redirect('/console/sign-in', 303);
  });
  for (const [path, handler] of Object.entries(o.pages))
    app.get(`/console${path}`, { schema: { hide: true } }, serve(handler, 'GET'));
  for (const [path, handler] of Object.entries(o.actions))
    app.post(`/console${path}`, { schema: { hide: true, body: FormBody } }, serve(handler, 'POST'));
  for (const [path, file] of Object.entries(o.downloads ?? {})) {
    app.get(`/console${path}`, { schema: { hide: true } }, async (request, reply) => {
      if (!(await sessionOf(request))) return reply.redirect('/console/sign-in', 303);
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

/**
 * Every page of a console says when its service's outbox holds dead letters (messages given up after
 * TVPAY_OUTBOX_MAX_ATTEMPTS failed deliveries, never retried): a side effect that did not happen is an
 * operator's to look into, and the metric `tvpay_outbox_dead_letters` says which topics.
 */
async function deadLettersAlert(db: Kysely<any>, ctx: ConsoleContext): Promise<Html | ''> {
  const row = await (db as Kysely<CommonTables>)
    .selectFrom('outbox')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('status', '=', 'dead_letter')
    .executeTakeFirst();
  const n = Number(row?.n ?? 0);
  if (n === 0) return '';
  return html`<p class="error" role="alert">${ctx.say({
    en:
      `Dead letters: ${n} outbox message(s) failed every delivery allowed and were given up; ` +
      `their side effects did not happen (tvpay_outbox_dead_letters says which topics).`,
    'zh-CN': `死信：${n} 条发件箱消息多次投递均失败，已放弃，其后续操作未执行（见指标 tvpay_outbox_dead_letters）。`,
  })}</p>`;
}

/**
 * Why a console POST is refused, or undefined: not from the console's own origin, or, with a live
 * session, without that session's anti-forgery token (with none, the caller asks to sign in instead).
 */
function forgery(request: FastifyRequest, publicUrl: string, session: string | undefined): string | undefined {
  const foreign = foreignOrigin(request, publicUrl);
  if (foreign) return foreign;
  const given = ((request.body ?? {}) as Record<string, unknown>)[FORM_TOKEN_FIELD];
  return session && !formTokenMatches(session, given)
    ? 'the form carries no anti-forgery token of this session, or a wrong one'
    : undefined;
}

/** What a page or action is given for one request; the anti-forgery token is not part of its form. */
function consoleContext(
  app: FastifyInstance,
  o: ConsoleOptions,
  request: FastifyRequest,
  reply: FastifyReply,
): ConsoleContext {
  const lang = langOf(request);
  const { [FORM_TOKEN_FIELD]: _token, ...form } = (
    request.body && typeof request.body === 'object' ? request.body : {}
  ) as Record<string, string | undefined>;
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
    form,
    reply,
  };
}

/** The session cookie's attributes: `Secure` whenever the browser came over https (behind a trusted proxy). */
const cookieOptions = (request: FastifyRequest) => ({
  path: '/console',
  httpOnly: true,
  sameSite: 'strict' as const,
  secure: request.protocol === 'https',
});

type SignInState = 'first' | 'failed' | 'throttled';

/** A console's frame (header, navigation, sign-out) and its sign-in page. */
function consoleLayout(o: ConsoleOptions) {
  const pageOf = (lang: ConsoleLang, title: string, body: Html, withNav: boolean) =>
    page({
      title: `${title} · ${o.name[lang]}`,
      lang,
      css: CONSOLE_CSS,
      // No icon to fetch (and no 404 in every page's console).
      head: html`<link rel="icon" href="data:,">`,
      body: html`<div class="console"><header><strong>${o.name[lang]}</strong>${withNav ? navigation(lang) : ''}\
</header><main><h1>${title}</h1>${body}</main></div>`,
    });
  /** The header's links to the pages, its search box (if any) and the sign-out button. */
  const navigation = (lang: ConsoleLang) => {
    const links = o.nav.map((n) => html`<a href="/console${n.path}">${n.label[lang]}</a>`);
    const search = o.search
      ? html`<form method="get" action="/console${o.search.path}" class="search"><input name="q" type="search" \
aria-label="${o.search.label[lang]}" placeholder="${o.search.placeholder[lang]}" maxlength="64"></form>`
      : '';
    return html`<nav aria-label="${lang === 'en' ? 'Console' : '控制台'}">${links}</nav>
${search}
<form method="post" action="/console/sign-out">\
<button type="submit" class="link">${lang === 'en' ? 'Sign out' : '退出'}</button></form>`;
  };
  const alerts: Record<SignInState, Words | undefined> = {
    first: undefined,
    failed: { en: 'That is not the admin token.', 'zh-CN': '管理令牌不正确。' },
    throttled: {
      en: 'Too many wrong sign-ins from this address; wait a few minutes and try again.',
      'zh-CN': '此地址登录失败次数过多，请几分钟后再试。',
    },
  };
  const signIn = (lang: ConsoleLang, state: SignInState) => {
    const alert = alerts[state];
    return pageOf(
      lang,
      lang === 'en' ? 'Sign in' : '登录',
      html`${alert ? html`<p class="error" role="alert">${alert[lang]}</p>` : ''}
<form method="post" action="/console/sign-in" class="card narrow">\
<label for="token">${lang === 'en' ? 'Admin token' : '管理令牌'}</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">${lang === 'en' ? 'Sign in' : '登录'}</button></form>`,
      false,
    );
  };
  return { page: pageOf, signIn };
}

/**
 * The sign-in page and its form. A sign-in must come from the console's own origin too (no other page
 * may sign a browser into a console), and wrong tries are counted per address with the atomic limiter:
 * past the limit the answer is 429 with `Retry-After`, the right token included, until the window ends.
 */
function mountSignIn(
  app: FastifyInstance,
  o: ConsoleOptions,
  sessions: ConsoleSessions,
  layout: ReturnType<typeof consoleLayout>,
): void {
  app.get('/console', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/console/', 301));
  app.get('/console/sign-in', { schema: { hide: true } }, async (request, reply) =>
    send(reply, 200, layout.signIn(langOf(request), 'first')),
  );
  app.post<{ Body: { token?: string } }>(
    '/console/sign-in',
    { schema: { hide: true, body: SignInBody } },
    async (request, reply) => {
      const foreign = foreignOrigin(request, o.publicUrl);
      if (foreign) return refuse(reply, foreign);
      const bucket = { key: `console-sign-in:${o.cookie}:${request.ip}`, rule: SIGN_IN_RULE };
      const over = await o.limiter.count(o.db, [bucket]);
      if (over)
        return send(
          reply.header('retry-after', String(over.retryAfterSeconds)),
          429,
          layout.signIn(langOf(request), 'throttled'),
        );
      const token = typeof request.body?.token === 'string' ? request.body.token : '';
      if (!token || !secretEquals(token, o.adminToken))
        return send(reply, 401, layout.signIn(langOf(request), 'failed'));
      await o.limiter.giveBack(o.db, bucket.key, bucket.rule);
      const session = await sessions.begin(o.clock.now());
      reply.setCookie(o.cookie, session, { ...cookieOptions(request), maxAge: SESSION_SECONDS });
      return reply.redirect('/console/', 303);
    },
  );
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
  const headings = head.map((h) => html`<th scope="col">${h}</th>`);
  return html`<table><caption>${caption}</caption><thead><tr>${headings}</tr></thead>
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
  /** The service's database: its `console_sessions` and the sign-in limits. */
  db: Kysely<any>;
  limiter: RateLimiter;
  /** The service's public URL, whose origin is the console's own. */
  publicUrl: string;
  /** The business time zone, for every time shown. */
  timeZone: string;
}

/** A console's setup from its service's parts, the same on both services but for its public URL. */
export function consoleSetup(
  core: {
    secrets: { adminToken: string };
    random: RandomSource;
    clock: Clock;
    config: { businessTimeZone: string };
    db: Kysely<any>;
    limiter: RateLimiter;
  },
  publicUrl: string,
): ConsoleSetup {
  const { random, clock, db, limiter } = core;
  return {
    adminToken: core.secrets.adminToken,
    random,
    clock,
    timeZone: core.config.businessTimeZone,
    db,
    limiter,
    publicUrl,
  };
}

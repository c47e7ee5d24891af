import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type TSchema } from 'typebox';
import { DomainError } from '../../lib/errors.ts';
import { CONTENT_SECURITY_POLICY, sendDocument } from '../../lib/http/security-headers.ts';
import type { CheckoutRails, RailChoice } from '../rail-payments/checkout-rails.ts';
import { checkoutPages, COUNTDOWN_SCRIPT, type PageLang, type PageNotice } from './checkout-pages.ts';
import type { Checkout, CheckoutService } from './checkout-service.ts';

/** A link token is base64url: anything else is no link of ours (and could not name a cookie's path). */
const Params = Type.Object({ token: Type.String({ minLength: 16, maxLength: 128, pattern: '^[A-Za-z0-9_-]+$' }) });
const Query = Type.Object({ lang: Type.Optional(Type.String({ maxLength: 8 })) });

/** A page's form post: its link token in the path, its language in the query, `body` the form; no API docs. */
const pageForm = <B extends TSchema>(body: B) => ({ schema: { params: Params, querystring: Query, body, hide: true } });

function langOf(request: FastifyRequest): PageLang {
  const q = (request.query as { lang?: string } | undefined)?.lang;
  if (q === 'en' || q === 'zh-CN') return q;
  const accept = String(request.headers['accept-language'] ?? '');
  return /^en/i.test(accept) ? 'en' : 'zh-CN';
}

const send = (reply: FastifyReply, status: number, body: string) =>
  sendDocument(reply.code(status).header('cache-control', 'no-store'), body);

/**
 * Where the page keeps its step between a form post and the page the post redirects to: the
 * session waiting for its code, the grant of a proven phone, and a notice shown once. Each is
 * an HttpOnly, SameSite=Strict cookie for this link's path only, so no secret is in the HTML or
 * a URL and another order's page never sees it.
 */
const COOKIE = { session: 'tvpay_pay_session', grant: 'tvpay_pay_grant', notice: 'tvpay_pay_notice' } as const;
const GRANT_SECONDS = 15 * 60;

const path = (token: string) => `/pay/${token}`;
const cookieOptions = (request: FastifyRequest, token: string, maxAge?: number) => ({
  path: path(token),
  httpOnly: true,
  sameSite: 'strict' as const,
  secure: request.protocol === 'https',
  ...(maxAge === undefined ? {} : { maxAge }),
});
const keep = (
  request: FastifyRequest,
  reply: FastifyReply,
  token: string,
  name: keyof typeof COOKIE,
  value: string,
  maxAge = GRANT_SECONDS,
) => reply.setCookie(COOKIE[name], value, cookieOptions(request, token, maxAge));
const drop = (request: FastifyRequest, reply: FastifyReply, token: string, name: keyof typeof COOKIE) =>
  reply.clearCookie(COOKIE[name], cookieOptions(request, token));
const backToPage = (request: FastifyRequest, reply: FastifyReply, token: string) =>
  reply.redirect(`${path(token)}?lang=${langOf(request)}`, 303);

/** Runs a form post's step; whatever it throws that a payer can act on becomes the notice the page shows. */
async function post(
  request: FastifyRequest,
  reply: FastifyReply,
  token: string,
  step: () => Promise<PageNotice | void>,
) {
  let notice: PageNotice | void;
  try {
    notice = await step();
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    notice = {
      code: err.code,
      ...(typeof err.extra.triesLeft === 'number' ? { triesLeft: err.extra.triesLeft } : {}),
      ...(typeof err.extra.retryAfterSeconds === 'number' ? { retryAfterSeconds: err.extra.retryAfterSeconds } : {}),
    };
    // A link that is not valid has no page to go back to.
    if (err.code === 'CHECKOUT_NOT_FOUND') return send(reply, 404, checkoutPages.error(langOf(request), notice));
  }
  if (notice) keep(request, reply, token, 'notice', Buffer.from(JSON.stringify(notice)).toString('base64url'), 60);
  return backToPage(request, reply, token);
}

function noticeOf(request: FastifyRequest): PageNotice | undefined {
  const raw = request.cookies[COOKIE.notice];
  if (!raw) return undefined;
  try {
    const n = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as PageNotice;
    return typeof n === 'object' && n && typeof n.code === 'string' ? n : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The phone checkout page at the order's payUrl: plain HTML forms, so it works with JavaScript off.
 * Every form post answers 303 to the page (POST-redirect-GET): a reload never sends a code again,
 * checks a code again or pays again; what the post did (or why it could not) is shown there once,
 * in the page's language.
 */
export function checkoutRoutes(
  app: FastifyInstance,
  checkout: CheckoutService,
  options: { timeZone: string; rails?: CheckoutRails },
): void {
  const rails = options.rails;
  const choices = rails?.choices ?? [];
  // The rails' forms answer with a redirect to their payment page, which `form-action` must allow.
  const pageConfig = {
    contentSecurityPolicy: { ...CONTENT_SECURITY_POLICY, formAction: ["'self'", ...(rails?.formActions ?? [])] },
  };
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get('/pay/agreement', { schema: { querystring: Query, hide: true } }, async (request, reply) =>
    send(reply, 200, checkoutPages.agreement(langOf(request))),
  );
  r.get('/pay/assets/countdown.js', { schema: { hide: true } }, async (_request, reply) =>
    reply.header('cache-control', 'public, max-age=3600').type('text/javascript; charset=utf-8').send(COUNTDOWN_SCRIPT),
  );
  r.get(
    '/pay/:token',
    { schema: { params: Params, querystring: Query, hide: true }, config: pageConfig },
    async (request, reply) => showPage(request, reply, request.params.token, checkout, { ...options, choices }),
  );
  if (rails) railPageRoutes(r as unknown as FastifyInstance, checkout, rails);
  formRoutes(r as unknown as FastifyInstance, checkout);
}

/** The page: the step the cookies say this phone is at, or the start. */
async function showPage(
  request: FastifyRequest,
  reply: FastifyReply,
  token: string,
  checkout: CheckoutService,
  view: { timeZone: string; choices: readonly RailChoice[] },
) {
  const lang = langOf(request);
  const notice = noticeOf(request);
  if (notice) drop(request, reply, token, 'notice');
  let c: Checkout;
  try {
    c = await checkout.find(token);
  } catch (err) {
    if (err instanceof DomainError) return send(reply, 404, checkoutPages.error(lang, { code: err.code }));
    throw err;
  }
  if (!checkout.isPayable(c)) {
    drop(request, reply, token, 'grant');
    drop(request, reply, token, 'session');
    return send(
      reply,
      200,
      checkoutPages.start(lang, c, token, {
        payable: false,
        notice,
        paidWith: await checkout.paidWith(c),
        merchantRefund: c.status === 'closed' ? await checkout.merchantRefund(c) : null,
        timeZone: view.timeZone,
      }),
    );
  }
  const grant = request.cookies[COOKIE.grant];
  if (grant) {
    const options = await checkout.payOptions(token, grant).catch((err: unknown) => {
      if (err instanceof DomainError) return null;
      throw err;
    });
    if (options)
      return send(
        reply,
        200,
        checkoutPages.choose(lang, options.checkout, token, options.options, notice, view.choices),
      );
    drop(request, reply, token, 'grant');
  }
  const session = request.cookies[COOKIE.session];
  const waiting = session ? await checkout.codeSession(token, session) : null;
  if (waiting)
    return send(reply, 200, checkoutPages.code(lang, c, token, { sentSecondsAgo: waiting.sentSecondsAgo, notice }));
  if (session) drop(request, reply, token, 'session');
  return send(reply, 200, checkoutPages.start(lang, c, token, { payable: true, notice, rails: view.choices }));
}

/** The page's own forms: send a code, verify it, pay from the wallet or the card. */
function formRoutes(app: FastifyInstance, checkout: CheckoutService): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.post('/pay/:token/code', { schema: { params: Params, querystring: Query, hide: true } }, (request, reply) =>
    post(request, reply, request.params.token, async () => {
      const sessionId = await checkout.sendCode(request.params.token);
      keep(request, reply, request.params.token, 'session', sessionId);
      drop(request, reply, request.params.token, 'grant');
    }),
  );

  r.post('/pay/:token/verify', pageForm(Type.Object({ code: Type.String({ maxLength: 32 }) })), (request, reply) =>
    post(request, reply, request.params.token, async () => {
      const { token } = request.params;
      const session = request.cookies[COOKIE.session];
      if (!session) throw new DomainError('CODE_NOT_SENT', 'Ask for a new code first.');
      try {
        const grant = await checkout.verify(token, session, request.body.code);
        keep(request, reply, token, 'grant', grant);
        drop(request, reply, token, 'session');
      } catch (err) {
        // Out of tries: the next code is a new session; the page goes back to its start.
        if (err instanceof DomainError && err.code === 'CONFIRMATION_FAILED') drop(request, reply, token, 'session');
        throw err;
      }
    }),
  );

  r.post(
    '/pay/:token/pay',
    pageForm(
      Type.Object({
        source: Type.Union([Type.Literal('wallet'), Type.Literal('card')]),
        quickPay: Type.Optional(Type.Literal('yes')),
      }),
    ),
    (request, reply) =>
      post(request, reply, request.params.token, async () => {
        const { token } = request.params;
        const grant = request.cookies[COOKIE.grant];
        if (!grant) throw new DomainError('GRANT_INVALID', 'This payment page has expired; start again from the link.');
        const { confirming } = await checkout.pay(token, grant, request.body.source, request.body.quickPay === 'yes');
        drop(request, reply, token, 'grant');
        return confirming ? { code: 'CONFIRMING' } : undefined;
      }),
  );
}

/**
 * Paying on the page by a rail: a POST form with `rail` answers 303 to the rail's payment page (no code
 * needed); the rail sends the payer back to `/pay/{token}/return`, which asks the rail about the trade and
 * answers 303 to the page, which says "paid" once it settled (POST-redirect-GET as every step of the page).
 */
function railPageRoutes(app: FastifyInstance, checkout: CheckoutService, rails: CheckoutRails): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const Rail = Type.Union(rails.choices.map((c) => Type.Literal(c.rail)));
  r.post(
    '/pay/:token/rail',
    pageForm(Type.Object({ rail: Rail, quickPay: Type.Optional(Type.Literal('yes')) })),
    async (request, reply) => {
      const { token } = request.params;
      try {
        const c = await checkout.find(token);
        const sign = request.body.quickPay === 'yes';
        // Quick pay binds the phone: only its proven holder may turn it on (the code on this page, as for the wallet).
        const grant = request.cookies[COOKIE.grant];
        if (sign && !(grant && (await checkout.proven(token, grant))))
          throw new DomainError('POSSESSION_REQUIRED', 'Confirm this phone with its code first to turn on quick pay.');
        const returnUrl = `${rails.publicUrl}/pay/${token}/return?lang=${langOf(request)}`;
        const url = await rails.startPage(c, request.body.rail, { returnUrl, payerClientIp: request.ip, sign });
        return reply.redirect(url, 303);
      } catch (err) {
        // What the payer can act on (the order ended, the rail did not answer) is shown on the page once.
        if (!(err instanceof DomainError)) throw err;
        return post(request, reply, token, () => Promise.reject(err));
      }
    },
  );
  r.get('/pay/:token/return', { schema: { params: Params, hide: true } }, async (request, reply) => {
    const c = await checkout.find(request.params.token).catch(() => undefined);
    if (c) await rails.returned(c.order_id);
    return backToPage(request, reply, request.params.token);
  });
}

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { DomainError } from '../../lib/errors.ts';
import { statusOf } from '../../lib/http/problem.ts';
import { checkoutPages, type PageLang } from './checkout-pages.ts';
import type { Checkout, CheckoutService } from './checkout-service.ts';

const Params = Type.Object({ token: Type.String({ minLength: 16, maxLength: 128 }) });
const Query = Type.Object({ lang: Type.Optional(Type.String({ maxLength: 8 })) });

function langOf(request: FastifyRequest): PageLang {
  const q = (request.query as { lang?: string } | undefined)?.lang;
  if (q === 'en' || q === 'zh-CN') return q;
  const accept = String(request.headers['accept-language'] ?? '');
  return /^en/i.test(accept) ? 'en' : 'zh-CN';
}

const send = (reply: FastifyReply, status: number, body: string) =>
  reply.code(status).header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').type('text/html; charset=utf-8').send(body);

/**
 * The phone checkout page at the order's payUrl: plain HTML forms, so it
 * works with JavaScript off. Errors are shown on the page with a 4xx status.
 */
export function checkoutRoutes(app: FastifyInstance, checkout: CheckoutService): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const guard = async (request: FastifyRequest, reply: FastifyReply, step: (lang: PageLang) => Promise<string>, retry?: (lang: PageLang, c: Checkout, message: string) => Promise<string>) => {
    const lang = langOf(request);
    try {
      return send(reply, 200, await step(lang));
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      const status = statusOf(err.code);
      const token = (request.params as { token: string }).token;
      const c = retry && status < 500 ? await checkout.find(token).catch(() => null) : null;
      const again = c && retry ? await retry(lang, c, err.message).catch(() => null) : null;
      if (again) return send(reply, status, again);
      return send(reply, status, checkoutPages.error(lang, err.message));
    }
  };

  r.get('/pay/:token', { schema: { params: Params, querystring: Query, hide: true } }, (request, reply) =>
    guard(request, reply, async (lang) => {
      const c = await checkout.find(request.params.token);
      return checkoutPages.start(lang, c, request.params.token, checkout.isPayable(c));
    }),
  );
  r.post('/pay/:token/code', { schema: { params: Params, querystring: Query, hide: true } }, (request, reply) =>
    guard(
      request,
      reply,
      async (lang) => {
        const sessionId = await checkout.sendCode(request.params.token);
        return checkoutPages.code(lang, await checkout.find(request.params.token), request.params.token, sessionId);
      },
      async (lang, c, message) => checkoutPages.start(lang, c, request.params.token, checkout.isPayable(c), message),
    ),
  );
  r.post(
    '/pay/:token/verify',
    { schema: { params: Params, querystring: Query, body: Type.Object({ session: Type.String({ maxLength: 64 }), code: Type.String({ maxLength: 32 }) }), hide: true } },
    (request, reply) =>
      guard(
        request,
        reply,
        async (lang) => {
          const grant = await checkout.verify(request.params.token, request.body.session, request.body.code);
          const { checkout: c, options } = await checkout.payOptions(request.params.token, grant);
          return checkoutPages.choose(lang, c, request.params.token, grant, options);
        },
        async (lang, c, message) => checkoutPages.code(lang, c, request.params.token, request.body.session, message),
      ),
  );
  r.post(
    '/pay/:token/pay',
    {
      schema: {
        params: Params,
        querystring: Query,
        body: Type.Object({ grant: Type.String({ maxLength: 128 }), source: Type.Union([Type.Literal('wallet'), Type.Literal('card')]), quickPay: Type.Optional(Type.Literal('yes')) }),
        hide: true,
      },
    },
    (request, reply) =>
      guard(
        request,
        reply,
        async (lang) => {
          const { checkout: c, confirming } = await checkout.pay(request.params.token, request.body.grant, request.body.source, request.body.quickPay === 'yes');
          return checkoutPages.start(lang, c, request.params.token, false, undefined, confirming);
        },
        // A refused payment rolls back whole, so the grant still holds: offer the choice again.
        async (lang, _c, message) => {
          const { checkout: c, options } = await checkout.payOptions(request.params.token, request.body.grant);
          return checkoutPages.choose(lang, c, request.params.token, request.body.grant, options, message);
        },
      ),
  );
}

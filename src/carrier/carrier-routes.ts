import { CONTENT_SECURITY_POLICY, sendDocument } from '../lib/http/security-headers.ts';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { secretEquals } from '../lib/ids.ts';
import type { CarrierService } from './carrier-service.ts';
import { phonePage, type DevScanners } from './phone-page.ts';

const Digits = Type.Object({ digits: Type.String({ pattern: '^[0-9]{5,20}$' }) });
const Message = Type.Object({ id: Type.String(), from: Type.String(), text: Type.String(), at: Type.String() });

/**
 * The development carrier's HTTP face: Kannel's sendsms interface for the
 * services, and per-phone routes for people and tests.
 */
export function carrierRoutes(
  app: FastifyInstance,
  carrier: CarrierService,
  auth: { user: string; password: string },
  options: { scanners?: DevScanners } = {},
): void {
  kannelSendRoute(app, carrier, auth);
  phoneApiRoutes(app, carrier);
  phonePageRoutes(app, carrier, options.scanners);
}

/** Kannel's `sendsms` interface, as the SMS gateway of tvpay talks to a real Kannel. */
function kannelSendRoute(app: FastifyInstance, carrier: CarrierService, auth: { user: string; password: string }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get(
    '/cgi-bin/sendsms',
    {
      schema: {
        hide: true,
        querystring: Type.Object({
          username: Type.Optional(Type.String()),
          password: Type.Optional(Type.String()),
          from: Type.Optional(Type.String({ maxLength: 32 })),
          to: Type.Optional(Type.String({ maxLength: 32 })),
          text: Type.Optional(Type.String({ maxLength: 4000 })),
          charset: Type.Optional(Type.String()),
          coding: Type.Optional(Type.String()),
          'dlr-mask': Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$' })),
          'dlr-url': Type.Optional(Type.String({ maxLength: 2000 })),
        }),
      },
    },
    async (request, reply) => {
      const q = request.query;
      const text = (s: string, code = 202) => reply.code(code).type('text/plain; charset=utf-8').send(s);
      if (!q.username || !q.password || q.username !== auth.user || !secretEquals(q.password, auth.password))
        return text('Authorization failed for sendsms', 403);
      if (!q.to || !/^\+?\d{5,20}$/.test(q.to)) return text('Missing receiver number', 400);
      if (q.text === undefined) return text('Missing text', 400);
      const id = await carrier.deliver(q.to, q.from ?? '', q.text);
      if (q['dlr-url'] && q['dlr-mask']) carrier.reportDelivery(q['dlr-url'], Number(q['dlr-mask']), id);
      return text('0: Accepted for delivery');
    },
  );
}

/** The development phones' JSON API: a phone's messages, and its replies. */
function phoneApiRoutes(app: FastifyInstance, carrier: CarrierService) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get(
    '/dev/v1/phones/:digits/messages',
    {
      // The development phone's page polls this every 1.5 s: its requests are logged at warn and above only.
      logLevel: 'warn',
      schema: {
        params: Digits,
        querystring: Type.Object(
          {
            after: Type.Optional(
              Type.String({
                minLength: 1,
                maxLength: 64,
                description: 'Only the messages that came after this one (an id from an earlier answer).',
              }),
            ),
            waitMs: Type.Optional(
              Type.String({
                // A whole number from 0 to 25000 (query strings are not coerced: the route reads it with Number()).
                pattern: '^(0|[1-9][0-9]{0,3}|1[0-9]{4}|2[0-4][0-9]{3}|25000)$',
                description: 'With nothing to answer yet, wait up to this many ms (0 to 25000) for the next SMS.',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(Message) },
      },
    },
    async (request, reply) => {
      const { after, waitMs } = request.query;
      if (!waitMs) return carrier.inbox(request.params.digits, after);
      // The response closes when it is sent or when the client goes away: either way nothing is left waiting.
      const gone = new AbortController();
      reply.raw.once('close', () => gone.abort());
      return carrier.inbox(request.params.digits, after, { ms: Number(waitMs), signal: gone.signal });
    },
  );
  // A request waiting for the next SMS would hold a stopping server open: it answers what it has instead.
  app.addHook('preClose', async () => carrier.releaseWaiters());
  r.post(
    '/dev/v1/phones/:digits/replies',
    {
      schema: {
        params: Digits,
        body: Type.Object(
          {
            text: Type.String({ minLength: 1, maxLength: 1000 }),
            to: Type.Optional(Type.String({ pattern: '^\\+?[0-9]{3,20}$' })),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) =>
      reply.code(202).send(await carrier.reply(request.params.digits, request.body.text, request.body.to)),
  );
}

/** The development phone's page (its thread, a reply form and links to the rails' scan pages). */
function phonePageRoutes(app: FastifyInstance, carrier: CarrierService, scanners: DevScanners | undefined) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  // The development phone's page refreshes itself with a small inline script: allowed on this page only.
  const phonePageCsp = { ...CONTENT_SECURITY_POLICY, scriptSrc: ["'self'", "'unsafe-inline'"] };
  r.get(
    '/dev/phones/:digits',
    { schema: { params: Digits, hide: true }, config: { contentSecurityPolicy: phonePageCsp } },
    async (request, reply) =>
      sendDocument(
        reply.header('cache-control', 'no-store'),
        phonePage(request.params.digits, await carrier.thread(request.params.digits), scanners),
      ),
  );
  r.post(
    '/dev/phones/:digits/reply',
    {
      schema: {
        params: Digits,
        body: Type.Object({ text: Type.String({ minLength: 1, maxLength: 1000 }) }),
        hide: true,
      },
    },
    async (request, reply) => {
      await carrier.reply(request.params.digits, request.body.text);
      return reply.redirect(`/dev/phones/${request.params.digits}`, 303);
    },
  );
}

import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import QRCode from 'qrcode';
import { Type } from 'typebox';
import { DomainError } from '../../lib/errors.ts';
import { IdempotencyHeaders, PhoneInput } from '../../lib/http/schemas.ts';
import { EVENT_STREAM_ROUTE } from '../devices/devices.ts';
import { versionOf, type OrderEvents } from '../core/order-events.ts';
import { isFinal } from '../core/order-state.ts';
import { OrderListQuery, OrderListSchema, TimelineEntrySchema } from '../../contracts/admin-api.ts';
import { AdminOrderSchema, OrderSchema, toAdminOrder, toOrderView } from './order-view.ts';
import type { TimelineEntry } from './order-timeline.ts';
import type { OrdersService } from './orders-service.ts';
import type { StreamRegistry } from './stream-registry.ts';
import type { LinkedOrder } from '../core/link-tokens.ts';
import { NON_DOCUMENT_HEADERS } from '../../lib/http/security-headers.ts';

const OrderParams = Type.Object({ orderId: Type.String({ minLength: 1, maxLength: 64 }) });
const HEARTBEAT_MS = 15_000;
/** An event stream's headers: a hijacked answer skips the hooks, so it says its security headers itself. */
const STREAM_HEADERS = {
  ...NON_DOCUMENT_HEADERS,
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-store',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};

/** The TV's order routes (claim 1, from the TV's side). */
export function tvOrderRoutes(
  app: FastifyInstance,
  orders: OrdersService,
  events: OrderEvents,
  streams: StreamRegistry,
  checkoutUrl: (order: LinkedOrder) => string,
): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const view = (o: Parameters<typeof toOrderView>[0]) => toOrderView(o, checkoutUrl);

  r.post(
    '/v1/orders',
    {
      schema: {
        headers: IdempotencyHeaders,
        body: Type.Object({ productId: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false }),
        response: { 201: OrderSchema },
      },
    },
    async (request, reply) => reply.code(201).send(view(await orders.create(request.device!, request.body.productId))),
  );
  // Not an async handler: a kept order is answered in the same turn, without a promise (the call a waiting TV repeats).
  r.get('/v1/orders/:orderId', { schema: { params: OrderParams, response: { 200: OrderSchema } } }, (request) => {
    const kept = orders.readOwnKept(request.device!, request.params.orderId);
    return kept ? view(kept) : orders.readOwn(request.device!, request.params.orderId).then(view);
  });
  // The pay link is a bearer secret: a stored idempotency answer never holds it (GET the order for it again).
  r.post(
    '/v1/orders/:orderId/payer',
    {
      config: { secretFields: ['payUrl'] },
      schema: {
        headers: IdempotencyHeaders,
        params: OrderParams,
        body: Type.Object({ phone: PhoneInput }, { additionalProperties: false }),
        response: { 202: OrderSchema },
      },
    },
    async (request, reply) => {
      const { order } = await orders.submitPayer(request.device!, request.params.orderId, request.body.phone);
      return reply.code(202).send(view(order));
    },
  );
  r.post(
    '/v1/orders/:orderId/payer/cancel',
    { schema: { headers: IdempotencyHeaders, params: OrderParams, response: { 200: OrderSchema } } },
    async (request) => view(await orders.dropPayer(request.device!, request.params.orderId)),
  );
  r.post(
    '/v1/orders/:orderId/cancel',
    {
      config: { secretFields: ['payUrl'] },
      schema: { headers: IdempotencyHeaders, params: OrderParams, response: { 200: OrderSchema } },
    },
    async (request) => view(await orders.cancel(request.device!, request.params.orderId)),
  );

  r.get('/v1/orders/:orderId/pay-qr.svg', { schema: { params: OrderParams, hide: true } }, async (request, reply) => {
    const order = await orders.getOwn(request.device!, request.params.orderId);
    if (order.attempt === 0)
      throw new DomainError('ORDER_HAS_NO_PAYER', 'The order has no payer yet, so it has no payment link.');
    const svg = await QRCode.toString(checkoutUrl(order), {
      type: 'svg',
      margin: 4,
      errorCorrectionLevel: 'M',
    });
    return reply.type('image/svg+xml').header('cache-control', 'private, max-age=60').send(svg);
  });
  orderStreamRoute(app, orders, events, streams, view);
}

/**
 * An order's event stream (server-sent events): the order as the TV sees it, sent again on each change
 * announced, with a heartbeat and a poll as a safety net, ended when the order is final or the TV goes.
 * It starts from the status read's kept order (never older than the last change announced) and sends the
 * row a change announces with it as it is, reading the store only for an announcement without the row (a
 * change made elsewhere newer than what it sent, or one whose writer had no row) and for its poll. It
 * never sends an older version of the order than one it has sent: announcements can arrive out of order.
 */
function orderStreamRoute(
  app: FastifyInstance,
  orders: OrdersService,
  events: OrderEvents,
  streams: StreamRegistry,
  view: (o: Parameters<typeof toOrderView>[0]) => ReturnType<typeof toOrderView>,
): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get(
    EVENT_STREAM_ROUTE,
    {
      schema: {
        params: OrderParams,
        querystring: Type.Object({ access_token: Type.Optional(Type.String({ maxLength: 512 })) }),
      },
    },
    async (request, reply) => {
      const first = await orders.readOwn(request.device!, request.params.orderId);
      const release = streams.open(request.device!.deviceId, first.id, () => finish());
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, STREAM_HEADERS);
      let last = '';
      let sentVersion = -1;
      let closed = false;
      const send = (o: typeof first) => {
        if (closed || o.version < sentVersion) return;
        sentVersion = o.version;
        const data = JSON.stringify(view(o));
        if (data === last) return;
        last = data;
        res.write(`event: order\nid: ${o.updated_at}\ndata: ${data}\n\n`);
        if (isFinal(o.status)) finish();
      };
      const refresh = () => {
        if (closed) return;
        orders.get(first.id).then(
          (o) => {
            // The stream read the store itself: a change it finds that was never announced is not served stale to
            // the status read either.
            orders.saw(o);
            send(o);
          },
          (err) => request.log.error({ err }, 'event stream read failed'),
        );
      };
      const unsubscribe = events.subscribe(first.id, (news) => {
        if (news.row) return send(news.row);
        const version = versionOf(news);
        if (version === undefined || version > sentVersion) refresh();
      });
      const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
      // A safety net for a change announced while this instance was not listening.
      const poll = setInterval(refresh, 5000);
      function finish() {
        if (closed) return;
        closed = true;
        release();
        unsubscribe();
        clearInterval(heartbeat);
        clearInterval(poll);
        res.end();
      }
      request.raw.on('close', finish);
      send(first);
    },
  );
}

/** Operators' order routes: one order, the search, and an order's timeline. */
export function adminOrderRoutes(
  app: FastifyInstance,
  orders: OrdersService,
  checkoutUrl: (order: LinkedOrder) => string,
  timeline: (orderId: string) => Promise<TimelineEntry[]>,
): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get(
    '/admin/v1/orders',
    { schema: { querystring: OrderListQuery, response: { 200: OrderListSchema } } },
    async (request) => {
      const page = await orders.search(request.query);
      return { items: page.items.map((o) => toAdminOrder(o, checkoutUrl)), nextCursor: page.nextCursor };
    },
  );
  r.get(
    '/admin/v1/orders/:orderId',
    { schema: { params: OrderParams, response: { 200: AdminOrderSchema } } },
    async (request) => toAdminOrder(await orders.get(request.params.orderId), checkoutUrl),
  );
  r.get(
    '/admin/v1/orders/:orderId/timeline',
    { schema: { params: OrderParams, response: { 200: Type.Array(TimelineEntrySchema) } } },
    async (request) => {
      await orders.get(request.params.orderId);
      return timeline(request.params.orderId);
    },
  );
}

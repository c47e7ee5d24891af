import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import { QueryLimit } from '../../lib/http/schemas.ts';
import type { Log } from '../../lib/log.ts';
import { normalizePhone } from '../../lib/phone.ts';
import { smsLog } from '../../sms/sms-log.ts';
import type { PaymentProvider } from '../core/payment-provider.ts';
import type { BackendDb } from '../schema.ts';
import { searchOrders } from './order-store.ts';

const OrderSms = Type.Object({
  orderId: Type.String(),
  smsId: Type.String(),
  kind: Type.String(),
  to: Type.String(),
  status: Type.String(),
  /**
   * Which service sent it: the back-end (payment links, subscription notices) or the payment server (codes, receipts).
   */
  sentBy: Type.Union([Type.Literal('backend'), Type.Literal('payserver')]),
  createdAt: Type.String(),
});
const OrderSmsList = Type.Object({ items: Type.Array(OrderSms), payserverAnswered: Type.Boolean() });
type OrderSmsList = Static<typeof OrderSmsList>;

/**
 * The SMS of the latest orders (of a phone, or all), from both services, newest first: what an
 * operator checks when a viewer says "I got no code". When the payment server cannot be asked,
 * the back-end's part is still given and `payserverAnswered` says the rest is missing.
 */
export async function smsOfOrders(
  db: BackendDb,
  provider: PaymentProvider,
  log: Log,
  q: { phone?: string; limit: number },
): Promise<OrderSmsList> {
  const orders = await searchOrders(db, { ...(q.phone ? { phone: q.phone } : {}), limit: q.limit });
  const ids = orders.map((o) => o.id);
  if (ids.length === 0) return { items: [], payserverAnswered: true };
  const own = (await smsLog.ofRefs(db, ids)).map((s) => ({
    orderId: s.ref!,
    smsId: s.id,
    kind: s.kind,
    to: s.to_phone,
    status: s.status,
    sentBy: 'backend' as const,
    createdAt: s.created_at,
  }));
  let theirs: OrderSmsList['items'] = [];
  let payserverAnswered = true;
  try {
    theirs = (await provider.smsOfOrders(ids)).items.map((s) => ({ ...s, sentBy: 'payserver' as const }));
  } catch (err) {
    payserverAnswered = false;
    log.warn({ err: (err as Error).message }, "the payment server's SMS of the latest orders could not be read");
  }
  const items = [...own, ...theirs].sort((a, b) =>
    a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0,
  );
  return { items, payserverAnswered };
}

/** `GET /admin/v1/sms/orders?phone=&limit=`: the SMS of the latest `limit` orders (≤ 50) from both services. */
export function adminOrderSmsRoute(
  app: FastifyInstance,
  db: BackendDb,
  provider: PaymentProvider,
  log: Log,
  regions: readonly string[],
): void {
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/admin/v1/sms/orders',
    {
      schema: {
        querystring: Type.Object(
          { phone: Type.Optional(Type.String({ maxLength: 32 })), limit: Type.Optional(QueryLimit) },
          { additionalProperties: false },
        ),
        response: { 200: OrderSmsList },
      },
    },
    async (request) =>
      smsOfOrders(db, provider, log, {
        ...(request.query.phone ? { phone: normalizePhone(request.query.phone, regions) } : {}),
        limit: Math.min(50, Number(request.query.limit ?? 25)),
      }),
  );
}

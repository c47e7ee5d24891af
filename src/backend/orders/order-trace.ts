import type { Log } from '../../lib/log.ts';
import { maskPhone } from '../../lib/phone.ts';
import { smsLog } from '../../sms/sms-log.ts';
import type { PaymentProvider } from '../core/payment-provider.ts';
import type { BackendDb } from '../schema.ts';
import { webhookStore } from '../webhooks/webhook-store.ts';
import { orderTimeline, type TimelineEntry } from './order-timeline.ts';

type Trace = Awaited<ReturnType<PaymentProvider['trace']>>;
type TracedPayment = Trace['payments'][number];

/**
 * Each call tvpay made to a rail about the order's trades and each notification it took, as its own
 * entry at its time (kind `rail`): the rail, tvpay's and the rail's trade numbers, what was done and
 * the one word it learnt. The payment server sends no key, signature or body, so none can show here.
 */
function railEvents(rails: Trace['rails']): TimelineEntry[] {
  return (rails ?? []).flatMap((t) =>
    t.events.map((e) => ({
      at: e.at,
      kind: 'rail' as const,
      summary: `${t.rail} ${e.kind}: ${e.outcome}`,
      rail: t.rail,
      outTradeNo: t.outTradeNo,
      providerTradeNo: t.providerTradeNo,
      tradeState: t.state,
      paymentId: t.paymentId,
      call: e.kind,
      outcome: e.outcome,
    })),
  );
}

/**
 * A payment's events, each at the time it happened: its start, and its outcome when it has one
 * (captured, failed, released). A payment refunded since was captured first: its refunds are the
 * order's own refund entries, so the outcome line says `captured` at the capture's time rather
 * than `refunded` at the start's.
 */
function paymentEvents(p: TracedPayment): TimelineEntry[] {
  const events: TimelineEntry[] = [
    {
      ...p,
      at: p.createdAt,
      kind: 'payment',
      phase: 'started',
      status: 'pending',
      summary: `payment ${p.method} started`,
    },
  ];
  if (p.completedAt && p.status !== 'pending') {
    const outcome = p.status === 'refunded' ? 'captured' : p.status;
    events.push({
      ...p,
      at: p.completedAt,
      kind: 'payment',
      phase: outcome,
      status: outcome,
      summary:
        `payment ${p.method} ${outcome}` +
        `${p.source ? ` from ${p.source}` : ''}${p.failureCode ? ` (${p.failureCode})` : ''}`,
    });
  }
  return events;
}

/**
 * An order's whole story for operators, oldest first: what the back-end
 * recorded (status changes, messages, refunds), the SMS it sent, its webhook
 * deliveries, and what the payment server says of its payments and their SMS.
 * When the payment server cannot be asked, its part is left out and an entry
 * says so, rather than the whole answer failing.
 */
export async function traceOrder(
  db: BackendDb,
  provider: PaymentProvider,
  orderId: string,
  log: Log,
): Promise<TimelineEntry[]> {
  const entries = await orderTimeline.of(db, orderId);
  for (const s of await smsLog.ofRefs(db, [orderId])) {
    entries.push({
      at: s.created_at,
      kind: 'sms',
      summary: `SMS ${s.kind} to ${maskPhone(s.to_phone)}: ${s.status}`,
      smsId: s.id,
      smsKind: s.kind,
      status: s.status,
      from: s.sender,
      updatedAt: s.updated_at,
    });
  }
  for (const d of await webhookStore.deliveriesOfOrder(db, orderId)) {
    entries.push({
      at: d.created_at,
      kind: 'webhook',
      summary: `${d.type} to ${d.webhook_id}: ${d.status}`,
      deliveryId: d.id,
      eventId: d.event_id,
      webhookId: d.webhook_id,
      status: d.status,
      attempts: d.attempts,
      lastStatusCode: d.last_status_code,
    });
  }
  try {
    const trace = await provider.trace(orderId);
    for (const p of trace.payments) entries.push(...paymentEvents(p));
    entries.push(...railEvents(trace.rails));
    for (const s of trace.sms)
      entries.push({
        at: s.createdAt,
        kind: 'sms',
        summary: `SMS ${s.kind} from the payment server: ${s.status}`,
        smsId: s.smsId,
        smsKind: s.kind,
        status: s.status,
        updatedAt: s.updatedAt,
      });
  } catch (err) {
    log.warn(
      { err: (err as Error).message, orderId },
      "the payment server's part of an order's timeline could not be read",
    );
    entries.push({
      at: new Date().toISOString(),
      kind: 'message',
      summary: 'the payment server could not be asked for its part of this timeline',
    });
  }
  return entries.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
}

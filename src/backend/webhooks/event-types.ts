/**
 * Every event type a webhook may subscribe to (API "Webhooks"); `*` takes
 * them all. Subscription events are emitted by the subscriptions context.
 */
export const EVENT_TYPES = [
  'order.paid',
  'order.fulfilled',
  'order.failed',
  'order.expired',
  'order.cancelled',
  'order.refunded',
  'refund.succeeded',
  'refund.failed',
  'subscription.created',
  'subscription.renewed',
  'subscription.renewal_failed',
  'subscription.cancelled',
  'subscription.lapsed',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

export const isEventType = (t: string): t is EventType => (EVENT_TYPES as readonly string[]).includes(t);

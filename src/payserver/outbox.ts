/**
 * The payment server's way into the outbox: the outbox's own enqueue (and the queued text SMS) in a unit of
 * work's transaction, which wakes the outbox workers once it has committed (src/lib/service/outbox-writes.ts).
 * The lint forbids the payment server the outbox's enqueue itself.
 */
export { enqueue, queueSms, queueText } from '../lib/service/outbox-writes.ts';

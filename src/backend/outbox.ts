/**
 * The back-end's way into the outbox (as the payment server's, src/payserver/outbox.ts): writes in a unit of
 * work's transaction that wake the outbox workers once it has committed.
 */
export { enqueue, queueSms, queueText } from '../lib/service/outbox-writes.ts';

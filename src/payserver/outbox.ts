import { outboxWritten } from '../lib/db/unit-of-work.ts';
import { enqueue as write } from '../lib/outbox/outbox.ts';
import { queueText as writeText } from '../sms/text-sms.ts';
import type { RandomSource } from '../lib/ids.ts';
import type { PayserverDb } from './schema.ts';

/**
 * The payment server's way into the outbox: the outbox's own enqueue (and the queued text SMS), in a
 * unit of work's transaction, which then wakes the outbox workers once it has committed. The outbox
 * (src/lib/outbox) is shared with the back-end and knows nothing of units of work, so the hook is
 * registered here; the lint forbids the payment server the outbox's enqueue itself.
 */
export async function enqueue<P>(trx: PayserverDb, message: Parameters<typeof write<P>>[1]): Promise<void> {
  await write(trx, message);
  outboxWritten(trx);
}

/** A text SMS queued in a unit of work's transaction (see `enqueue`). */
export async function queueText(
  trx: PayserverDb,
  random: RandomSource,
  sms: Parameters<typeof writeText>[2],
): Promise<void> {
  await writeText(trx, random, sms);
  outboxWritten(trx);
}

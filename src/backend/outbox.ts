import { outboxWritten } from '../lib/db/unit-of-work.ts';
import { enqueue as write } from '../lib/outbox/outbox.ts';
import { queueText as writeText } from '../sms/text-sms.ts';
import type { RandomSource } from '../lib/ids.ts';
import type { BackendDb } from './schema.ts';

/**
 * The back-end's way into the outbox, as the payment server's (src/payserver/outbox.ts): the outbox's own
 * enqueue (and the queued text SMS) in a unit of work's transaction, which wakes the outbox workers once it
 * has committed. The lint forbids the back-end the outbox's enqueue itself.
 */
export async function enqueue<P>(trx: BackendDb, message: Parameters<typeof write<P>>[1]): Promise<void> {
  await write(trx, message);
  outboxWritten(trx);
}

/** A text SMS queued in a unit of work's transaction (see `enqueue`). */
export async function queueText(
  trx: BackendDb,
  random: RandomSource,
  sms: Parameters<typeof writeText>[2],
): Promise<void> {
  await writeText(trx, random, sms);
  outboxWritten(trx);
}

import type { Kysely } from 'kysely';
import { outboxWritten } from '../db/unit-of-work.ts';
import type { RandomSource } from '../ids.ts';
import { enqueue as write } from '../outbox/outbox.ts';
import { queueSms as writeSms, queueText as writeText } from '../../sms/text-sms.ts';

/**
 * A service's way into the outbox: the outbox's own enqueue (and the queued text SMS), in a unit of work's
 * transaction, which then wakes the outbox workers once it has committed. The outbox (src/lib/outbox)
 * knows nothing of units of work, so the hook is registered here; each service re-exports these from its
 * own outbox.ts, and the lint forbids the services the outbox's enqueue itself.
 */
export async function enqueue<P>(trx: Kysely<any>, message: Parameters<typeof write<P>>[1]): Promise<void> {
  await write(trx, message);
  outboxWritten(trx);
}

/** A text SMS queued in a unit of work's transaction (see `enqueue`). */
export async function queueText(
  trx: Kysely<any>,
  random: RandomSource,
  sms: Parameters<typeof writeText>[2],
): Promise<void> {
  await writeText(trx, random, sms);
  outboxWritten(trx);
}

/** An SMS and the message that sends it, queued in a unit of work's transaction (see `enqueue`). */
export async function queueSms<P>(
  trx: Kysely<any>,
  random: RandomSource,
  sms: Parameters<typeof writeSms<P>>[2],
  send: Parameters<typeof writeSms<P>>[3],
): Promise<string> {
  const smsId = await writeSms(trx, random, sms, send);
  outboxWritten(trx);
  return smsId;
}

import type { Kysely } from 'kysely';
import type { Clock } from '../lib/clock.ts';
import { onPostgres } from '../lib/db/dialect-of.ts';
import type { RandomSource } from '../lib/ids.ts';
import { enqueue, topic, type Topic } from '../lib/outbox/outbox.ts';
import type { SmsGateway } from './gateway.ts';
import { smsLog } from './sms-log.ts';

/** An SMS whose text holds no secret (an answer, a receipt), queued with the change it tells of. */
export const TEXT_SMS_TOPIC = topic<{ smsId: string; to: string; text: string }>('sms.text');

/** Queues a text SMS in the caller's transaction: logged as queued, sent by the outbox after the commit. */
export async function queueText(
  trx: Kysely<any>,
  random: RandomSource,
  sms: { kind: string; to: string; from: string; text: string; now: Date; ref?: string },
): Promise<void> {
  const { kind, to, from, now } = sms;
  await queueSms(
    trx,
    random,
    { kind, to, from, now, ...(sms.ref ? { ref: sms.ref } : {}) },
    {
      topic: TEXT_SMS_TOPIC,
      payload: (smsId) => ({ smsId, to, text: sms.text }),
    },
  );
}

/**
 * Queues an SMS in the caller's transaction: logged as queued (`ref`: what it is about), and a message on
 * `send.topic`, whose payload names the SMS by its id, that sends it after the commit (under
 * `send.correlationId`, else the one in force). Returns that id. On PostgreSQL the two rows are one statement
 * (issue 30), on SQLite two.
 */
export async function queueSms<P>(
  trx: Kysely<any>,
  random: RandomSource,
  sms: { kind: string; to: string; from: string; now: Date; ref?: string },
  send: { topic: Topic<P>; payload: (smsId: string) => P; correlationId?: string | null },
): Promise<string> {
  const logged = { id: random.id('sms'), ...sms };
  const message = {
    id: random.id('obx'),
    topic: send.topic,
    payload: send.payload(logged.id),
    now: sms.now,
    ...(send.correlationId === undefined ? {} : { correlationId: send.correlationId }),
  };
  if (onPostgres(trx)) {
    await enqueue(trx, message, (row) => smsLog.queuedWithMessage(trx, logged, row));
  } else {
    await smsLog.queued(trx, logged);
    await enqueue(trx, message);
  }
  return logged.id;
}

/** The outbox handler that sends a queued text SMS, once (a retry after the gateway took it sends nothing). */
export function textSender(db: Kysely<any>, gateway: SmsGateway, clock: Clock, from: string) {
  return async ({ smsId, to, text }: { smsId: string; to: string; text: string }): Promise<void> => {
    if ((await smsLog.byId(db, smsId))?.status !== 'queued') return;
    await handOver(db, gateway, clock, { ref: smsId, to, from, text });
  };
}

/**
 * Hands a logged SMS (`ref` is its id in the log) to the gateway and marks it sent with the gateway's id,
 * by which its delivery report finds it (with the other SMS handed over meanwhile, in one statement), before it
 * resolves, so that a retry of its outbox message finds it sent. A gateway that refuses it throws, and it stays
 * queued.
 */
export async function handOver(
  db: Kysely<any>,
  gateway: SmsGateway,
  clock: Clock,
  sms: { ref: string; to: string; from: string; text: string },
): Promise<void> {
  const { gatewayId } = await gateway.send(sms);
  await smsLog.advanceSoon(db, sms.ref, 'sent', clock.now(), gatewayId);
}

import type { Kysely } from 'kysely';
import type { CommonTables } from '../lib/db/common-tables.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Count } from '../lib/metrics/service-metrics.ts';

export type SmsStatus = 'queued' | 'sent' | 'delivered' | 'failed';

/** The states a delivery state may move on from (only forward). */
const PREDECESSORS: Record<SmsStatus, SmsStatus[]> = {
  queued: [],
  sent: ['queued'],
  delivered: ['queued', 'sent'],
  failed: ['queued', 'sent'],
};

/**
 * The delivery state of every SMS a service sends, without its text (a code
 * SMS's text is a secret): queued with the state change that asked for it,
 * sent when the gateway took it, delivered or failed by delivery report.
 */
export const smsLog = {
  async queued(trx: Kysely<any>, sms: { id: string; kind: string; to: string; from: string; now: Date; ref?: string }) {
    await (trx as unknown as Kysely<CommonTables>)
      .insertInto('sms_messages')
      .values({
        id: sms.id,
        kind: sms.kind,
        ref: sms.ref ?? null,
        gateway_id: null,
        to_phone: sms.to,
        sender: sms.from,
        status: 'queued',
        created_at: sms.now.toISOString(),
        updated_at: sms.now.toISOString(),
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  },

  async advance(db: Kysely<any>, id: string, status: SmsStatus, now: Date, gatewayId?: string): Promise<boolean> {
    if (PREDECESSORS[status].length === 0) return false;
    const res = await (db as unknown as Kysely<CommonTables>)
      .updateTable('sms_messages')
      .set({ status, updated_at: now.toISOString(), ...(gatewayId ? { gateway_id: gatewayId } : {}) })
      .where('id', '=', id)
      .where('status', 'in', PREDECESSORS[status])
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  },

  /**
   * Applies a delivery report, counting an SMS that newly reached its final
   * state; returns whether it newly marked the SMS failed (to act on it once).
   */
  async report(db: Kysely<any>, id: string, status: SmsStatus, now: Date, count?: Count): Promise<boolean> {
    const moved = await smsLog.advance(db, id, status, now);
    if (moved && (status === 'delivered' || status === 'failed')) count?.({ event: 'sms_finished', state: status });
    return moved && status === 'failed';
  },

  async byId(db: Kysely<any>, id: string) {
    return (db as unknown as Kysely<CommonTables>)
      .selectFrom('sms_messages')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
  },

  /** How many SMS of a kind were queued for one thing (the code SMS of a payment). */
  async countFor(db: Kysely<any>, ref: string, kind: string): Promise<number> {
    const row = await (db as unknown as Kysely<CommonTables>)
      .selectFrom('sms_messages')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('ref', '=', ref)
      .where('kind', '=', kind)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  },

  /** Every SMS queued for one thing (an order's link SMS, a payment's code SMS), oldest first. */
  async ofRefs(db: Kysely<any>, refs: string[]) {
    if (refs.length === 0) return [];
    return (db as unknown as Kysely<CommonTables>)
      .selectFrom('sms_messages')
      .selectAll()
      .where('ref', 'in', refs)
      .orderBy('created_at')
      .execute();
  },

  /** The newest SMS, for operators (never their text: the table holds none). */
  async list(db: Kysely<any>, filter: { phone?: string; status?: string; limit: number }) {
    let q = (db as unknown as Kysely<CommonTables>)
      .selectFrom('sms_messages')
      .selectAll()
      .orderBy('created_at', 'desc')
      .limit(filter.limit);
    if (filter.phone) q = q.where('to_phone', '=', filter.phone);
    if (filter.status) q = q.where('status', '=', filter.status);
    return q.execute();
  },

  /** Our SMS id for a gateway's message id, if the SMS is ours. */
  async byGatewayId(db: Kysely<any>, gatewayId: string): Promise<string | undefined> {
    const row = await (db as unknown as Kysely<CommonTables>)
      .selectFrom('sms_messages')
      .select('id')
      .where('gateway_id', '=', gatewayId)
      .executeTakeFirst();
    return row?.id;
  },

  /**
   * The same, waiting briefly when the receipt beat us to recording the
   * gateway id (an SMSC may report within milliseconds of accepting).
   */
  async byGatewayIdSoon(db: Kysely<any>, gatewayId: string): Promise<string | undefined> {
    for (let i = 0; i < 10; i++) {
      const id = await smsLog.byGatewayId(db, gatewayId);
      if (id) return id;
      await sleep(100);
    }
    return undefined;
  },
};

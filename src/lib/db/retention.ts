import type { Kysely } from 'kysely';
import type { Clock } from '../clock.ts';
import type { Config } from '../../config/config.ts';
import type { CommonTables } from './common-tables.ts';

const DAY_MS = 24 * 3600 * 1000;
/** Rows deleted per table per pass, so one pass never holds the writer long. */
export const PRUNE_BATCH = 1000;

/**
 * Deletes what only grows and is no longer needed once its retention is
 * over: delivered and dead outbox messages, the SMS log, idempotency keys
 * (their stored answers) and `extra` tables of the service (each with the
 * column that dates a row). Runs in batches from the sweeper, on any instance.
 */
export async function pruneExpired(
  db: Kysely<CommonTables>,
  clock: Clock,
  retention: Config['retention'],
  extra: ReadonlyArray<{ table: string; key: string; dated: string }> = [],
): Promise<number> {
  const now = clock.now().getTime();
  const records = new Date(now - retention.recordsDays * DAY_MS).toISOString();
  const keys = new Date(now - retention.idempotencyHours * 3600 * 1000).toISOString();
  let n = 0;
  const del = async (table: string, key: string, dated: string, cutoff: string) => {
    const any = db as unknown as Kysely<any>;
    const res = await any
      .deleteFrom(table)
      .where(dated, '<', cutoff)
      .where(key, 'in', (eb: any) => eb.selectFrom(table).select(key).where(dated, '<', cutoff).limit(PRUNE_BATCH))
      .executeTakeFirst();
    n += Number(res.numDeletedRows ?? 0n);
  };
  // Keyed by a unique id, so deleting by the id column is exact.
  // Finished messages by their last attempt (never after they finished), a range of the outbox_due index; by
  // creation the planner read every finished message at every sweep. A finished message never changes again.
  const outbox = db
    .deleteFrom('outbox')
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('outbox')
        .select('id')
        .where('status', 'in', ['done', 'dead', 'dead_letter'])
        .where('next_attempt_at', '<', records)
        .limit(PRUNE_BATCH),
    );
  n += Number((await outbox.executeTakeFirst()).numDeletedRows ?? 0n);
  const sms = db
    .deleteFrom('sms_messages')
    .where('created_at', '<', records)
    .where('id', 'in', (eb) =>
      eb.selectFrom('sms_messages').select('id').where('created_at', '<', records).limit(PRUNE_BATCH),
    );
  n += Number((await sms.executeTakeFirst()).numDeletedRows ?? 0n);
  n += Number(
    (await db.deleteFrom('idempotency_keys').where('created_at', '<', keys).executeTakeFirst()).numDeletedRows ?? 0n,
  );
  for (const t of extra) await del(t.table, t.key, t.dated, records);
  return n;
}

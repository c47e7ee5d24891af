import type { UpdateObject } from 'kysely';
import { affected } from '../../lib/db/affected.ts';
import { preparedQuery } from '../../lib/db/prepared-query.ts';
import type { BackendDb, BackendTables } from '../schema.ts';
import { OPEN_STATUSES, PREDECESSORS, type OrderStatus } from './order-state.ts';

export type OrderRow = BackendTables['orders'];

const orderById = preparedQuery((db: BackendDb, orderId: string) => db.selectFrom('orders').selectAll().where('id', '=', orderId));

/** Reads one order (the TV's status read: a hot path, so a prepared query). */
export async function findOrder(db: BackendDb, orderId: string): Promise<OrderRow | undefined> {
  return (await orderById(db, orderId)).rows[0];
}

/**
 * Moves an order to `to` only from one of its allowed predecessors (and only
 * if `attempt`, when given, is still the current one): the guard that keeps
 * the state machine forward-only whatever arrives late, twice or out of order.
 * Returns whether this call made the move.
 */
export async function moveOrder(
  trx: BackendDb,
  orderId: string,
  to: OrderStatus,
  now: Date,
  set: UpdateObject<BackendTables, 'orders'> = {},
  guard: { attempt?: number; from?: readonly OrderStatus[] } = {},
): Promise<boolean> {
  const from = [...(guard.from ?? PREDECESSORS[to])];
  if (from.length === 0) return false;
  let q = trx
    .updateTable('orders')
    .set({ ...set, status: to, updated_at: now.toISOString() })
    .where('id', '=', orderId)
    .where('status', 'in', from);
  if (guard.attempt !== undefined) q = q.where('attempt', '=', guard.attempt);
  return affected(await q.executeTakeFirst()) === 1;
}

export async function insertOrder(trx: BackendDb, row: OrderRow): Promise<void> {
  await trx.insertInto('orders').values(row).execute();
}

/** A TV's orders still waiting for their payment (one at most, but read as a list to end them all). */
export async function openOrdersOfDevice(trx: BackendDb, deviceId: string) {
  return trx.selectFrom('orders').select(['id', 'attempt']).where('device_id', '=', deviceId).where('status', 'in', OPEN_STATUSES).execute();
}

/**
 * Takes the payer of an order for a new attempt: → `awaiting_payment` from
 * its allowed predecessors, before it expires, with the attempt number raised
 * in the same conditional UPDATE (so concurrent submissions are ordered).
 * Returns the new attempt, or undefined when the order could not take it.
 */
export async function takePayer(trx: BackendDb, orderId: string, phone: string, now: Date): Promise<number | undefined> {
  const row = await trx
    .updateTable('orders')
    .set((eb) => ({ status: 'awaiting_payment' as OrderStatus, payer_phone: phone, attempt: eb('attempt', '+', 1), channel: null, failure_code: null, updated_at: now.toISOString() }))
    .where('id', '=', orderId)
    .where('status', 'in', [...PREDECESSORS.awaiting_payment])
    .where('expires_at', '>', now.toISOString())
    .returning('attempt')
    .executeTakeFirst();
  return row?.attempt;
}

/** Records the channel an attempt took, once (the inline run and the outbox may race). */
export async function setChannel(trx: BackendDb, orderId: string, attempt: number, channel: 'sms_confirm' | 'wap_link', now: Date): Promise<boolean> {
  const res = await trx
    .updateTable('orders')
    .set({ channel, updated_at: now.toISOString() })
    .where('id', '=', orderId)
    .where('attempt', '=', attempt)
    .where('status', '=', 'awaiting_payment')
    .where('channel', 'is', null)
    .executeTakeFirst();
  return affected(res) === 1;
}

/** Orders still open past their time. */
export async function dueToExpire(db: BackendDb, now: string, limit: number): Promise<string[]> {
  const rows = await db.selectFrom('orders').select('id').where('status', 'in', OPEN_STATUSES).where('expires_at', '<=', now).limit(limit).execute();
  return rows.map((r) => r.id);
}

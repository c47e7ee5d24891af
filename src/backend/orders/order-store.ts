import type { UpdateObject } from 'kysely';
import { affected } from '../../lib/db/affected.ts';
import { preparedQuery } from '../../lib/db/prepared-query.ts';
import type { BackendDb, BackendTables } from '../schema.ts';
import { PREDECESSORS, type OrderStatus } from './order-state.ts';

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

import type { UpdateObject } from 'kysely';
import { affected } from '../../lib/db/affected.ts';
import type { BackendDb, BackendTables } from '../schema.ts';
import { PREDECESSORS, type OrderStatus } from './order-state.ts';

export type OrderRow = BackendTables['orders'];

/** Reads one order. */
export function findOrder(db: BackendDb, orderId: string): Promise<OrderRow | undefined> {
  return db.selectFrom('orders').selectAll().where('id', '=', orderId).executeTakeFirst();
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

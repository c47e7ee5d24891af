import type { Order } from '../../contracts/tv-api.ts';

/** The order's life (the statuses of the public contract); it only ever moves forward. */
export type OrderStatus = Order['status'];

/** Statuses in which an order still waits for its payment (a TV has at most one such order). */
export const OPEN_STATUSES: readonly OrderStatus[] = ['created', 'awaiting_payment'];

/**
 * Statuses in which a TV's checkout is over. `fulfilled` is final for the
 * checkout; `refunded` is the one move after it (or after `paid`, when the
 * operator's system never turned the purchase on).
 */
export const FINAL_STATUSES: readonly OrderStatus[] = ['fulfilled', 'failed', 'expired', 'cancelled', 'refunded'];

/** Statuses an order can be refunded in. */
export const REFUNDABLE_STATUSES: readonly OrderStatus[] = ['paid', 'fulfilled'];

/** For each status, the statuses it may be reached from. */
export const PREDECESSORS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  created: [],
  awaiting_payment: ['created', 'awaiting_payment'],
  paid: ['created', 'awaiting_payment'],
  fulfilled: ['paid'],
  failed: ['awaiting_payment'],
  expired: ['created', 'awaiting_payment'],
  cancelled: ['created', 'awaiting_payment'],
  refunded: ['paid', 'fulfilled'],
};

export const isFinal = (s: OrderStatus): boolean => FINAL_STATUSES.includes(s);

/** Whether an order in `from` may move to `to` (the guard every UPDATE of an order's status uses). */
export const canMove = (from: OrderStatus, to: OrderStatus): boolean => PREDECESSORS[to].includes(from);

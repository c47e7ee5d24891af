import type { Kysely } from 'kysely';
import type { BackendTables } from '../../src/backend/schema.ts';
import { newOrderRow, type OrderRow } from '../../src/backend/orders/order-store.ts';

/** The TV dev_1's (of account sub_1) order for a 30-day VIP at 100 fen, renewed by hand. */
const VIP_ON_DEV_1 = { device_id: 'dev_1', account_id: 'sub_1', product_id: 'vip', title: 'VIP', renews: 0 };
const VIP_PRICE = { amount_minor: 100, currency: 'CNY', service: 'vip', duration_days: 30 };

/**
 * A back-end order row made at `at`: the TV dev_1's order for a 30-day VIP at 100 fen, created and not yet
 * paid; `over` sets what a test needs otherwise. Every column is named, as the stores' inserts name them.
 */
export const orderRow = (id: string, at: string, over: Partial<OrderRow> = {}): OrderRow => ({
  ...newOrderRow({ id, ...VIP_ON_DEV_1, ...VIP_PRICE, created_at: at, expires_at: at }),
  ...over,
});

/** The TV dev_1 (of account sub_1) and one order of it, `orderRow('ord_1', at, over)`, in a back-end store. */
export async function insertTvOrder(db: Kysely<BackendTables>, at: string, over: Partial<OrderRow> = {}) {
  await db
    .insertInto('devices')
    .values({ id: 'dev_1', name: 'TV', account_id: 'sub_1', token_hash: 'h', created_at: at })
    .execute();
  await db
    .insertInto('orders')
    .values(orderRow('ord_1', at, over))
    .execute();
}

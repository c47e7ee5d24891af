import type { Kysely } from 'kysely';
import type { BackendTables } from '../../src/backend/schema.ts';

type OrderRow = BackendTables['orders'];

/**
 * A back-end order row made at `at`: the TV dev_1's order for a 30-day VIP at 100 fen, created and not yet
 * paid; `over` sets what a test needs otherwise. Every column is named, as the stores' inserts name them.
 */
export const orderRow = (id: string, at: string, over: Partial<OrderRow> = {}): OrderRow =>
  ({
    id,
    device_id: 'dev_1',
    account_id: 'sub_1',
    product_id: 'vip',
    title: 'VIP',
    amount_minor: 100,
    currency: 'CNY',
    service: 'vip',
    duration_days: 30,
    status: 'created',
    channel: null,
    payer_phone: null,
    attempt: 0,
    link_token_sealed: '',
    failure_code: null,
    payment_id: null,
    created_at: at,
    expires_at: at,
    paid_at: null,
    fulfilled_at: null,
    updated_at: at,
    refund_reserved_minor: 0,
    refunded_minor: 0,
    subscription_id: null,
    renewal_consent: 0,
    renews: 0,
    ...over,
  }) as OrderRow;

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

import { sql, type Kysely, type Migration } from 'kysely';

/**
 * A TV has at most one open order: a partial unique index, so that even two
 * creations racing on two instances cannot both leave an order open. Older
 * open orders of a device from before this rule are cancelled first (their
 * checkouts expire at the payment server, and a late payment is refunded).
 */
export const oneOpenOrderPerDevice: Migration = {
  async up(db: Kysely<any>) {
    await sql`UPDATE orders SET status = 'cancelled', failure_code = 'REPLACED'
      WHERE status IN ('created', 'awaiting_payment') AND EXISTS (
        SELECT 1 FROM orders newer WHERE newer.device_id = orders.device_id
          AND newer.status IN ('created', 'awaiting_payment')
          AND (newer.created_at > orders.created_at
            OR (newer.created_at = orders.created_at AND newer.id > orders.id)))`.execute(db);
    // One string as before (SQLite keeps an index's text as written).
    await sql
      .raw(
        'CREATE UNIQUE INDEX orders_one_open_per_device ON orders (device_id)' +
          " WHERE status IN ('created', 'awaiting_payment')",
      )
      .execute(db);
  },
};

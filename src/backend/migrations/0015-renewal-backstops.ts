import { sql, type Kysely, type Migration } from 'kysely';
import { NOTICE_DUE, RENEWAL_ENDED } from '../schema.ts';

/**
 * The scheduler's two slow steps (once a minute), each a range of an index
 * that holds only what they look for. Before, both walked every active
 * subscription: 320 and 160 ms at 100,000 on renewal day, a stall of every
 * TV's call once a minute (BENCHMARKS.md, an eighth sitting). The index's
 * condition is repeated word for word by the query that uses it
 * (subscription-store.ts), which is how SQLite knows it may.
 */
export const renewalBackstops: Migration = {
  async up(db: Kysely<any>) {
    // Notices not yet sent for the current period.
    await db.schema
      .createIndex('subscriptions_notice_due')
      .on('subscriptions')
      .columns(['status', 'current_period_end'])
      .where(sql.raw<boolean>(NOTICE_DUE))
      .execute();
    // Renewal orders that ended unpaid (the backstop for a try whose failure was not recorded with its end).
    await db.schema
      .createIndex('orders_renewal_ended')
      .on('orders')
      .columns(['channel', 'updated_at', 'id'])
      .where(sql.raw<boolean>(RENEWAL_ENDED))
      .execute();
  },
};

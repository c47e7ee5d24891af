import type { Kysely, Migration } from 'kysely';

/**
 * An order's version: raised by every UPDATE of the order (order-store.ts), so that of two rows of one order
 * the newer is known. The event streams and the status read take the row a change returned, announced after its
 * commit, instead of reading it again; announcements can arrive out of order, and an older row is never shown
 * after a newer one.
 */
export const orderVersion: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .alterTable('orders')
      .addColumn('version', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
  },
};

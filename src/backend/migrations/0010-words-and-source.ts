import type { Kysely, Migration } from 'kysely';

/** What the TV says of a package in each language, and what paid an order (for the TV's success). */
export const wordsAndSource: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .alterTable('products')
      .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
      .execute();
    await db.schema.alterTable('products').addColumn('localized', 'text').execute();
    await db.schema.alterTable('orders').addColumn('paid_source', 'varchar(8)').execute();
  },
};

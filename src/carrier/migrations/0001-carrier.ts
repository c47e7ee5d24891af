import type { Kysely, Migration } from 'kysely';

/** The carrier's one table: every SMS each phone received or sent. */
export const messageTables: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('messages')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('phone', 'varchar(32)', (c) => c.notNull())
      .addColumn('direction', 'varchar(4)', (c) => c.notNull())
      .addColumn('peer', 'varchar(32)', (c) => c.notNull())
      .addColumn('text', 'text', (c) => c.notNull())
      .addColumn('at', 'varchar(32)', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('messages_phone').on('messages').columns(['phone', 'seq']).execute();
  },
};

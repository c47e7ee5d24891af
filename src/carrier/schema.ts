import type { Kysely, Migration } from 'kysely';

/** The development carrier's store: every SMS each phone received or sent. */
export interface CarrierTables {
  messages: { id: string; seq: number; phone: string; direction: 'mt' | 'mo'; peer: string; text: string; at: string };
}

export const carrierMigrations: Record<string, Migration> = {
  '0001_carrier': {
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
  },
};

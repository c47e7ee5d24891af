import type { Kysely, Migration } from 'kysely';

/** Messages answered without effect because they contradicted what was applied, for reconciliation. */
export const contestedMessages: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('contested_messages')
      .addColumn('message_id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('kind', 'varchar(40)', (c) => c.notNull())
      .addColumn('type', 'varchar(32)', (c) => c.notNull())
      .addColumn('order_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('payment_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('refund_id', 'varchar(64)')
      .addColumn('amount_minor', 'bigint', (c) => c.notNull())
      .addColumn('detail', 'varchar(300)', (c) => c.notNull())
      .addColumn('received_at', 'varchar(32)', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('contested_messages_received').on('contested_messages').column('received_at').execute();
  },
};

import { sql, type Kysely, type Migration } from 'kysely';

/** What refunds gave back of each hold, so the ledger itself refuses a refund past what the hold captured. */
export const holdRefunds: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .alterTable('holds')
      .addColumn('refunded_minor', 'bigint', (c) => c.notNull().defaultTo(0))
      .execute();
    await sql`UPDATE holds SET refunded_minor = COALESCE(
      (SELECT p.refunded_minor FROM payments p WHERE p.hold_id = holds.id), 0) WHERE status = 'captured'`.execute(db);
  },
};

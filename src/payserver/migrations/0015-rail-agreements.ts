import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Quick pay through the rails: the phones' agreements at the rails, when the wallet's quick pay was agreed
 * to (the newest agreement of a phone pays), and the agreement a payment is charged under.
 */
export const railAgreements: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('rail_agreements')
      .addColumn('external_agreement_no', 'varchar(32)', (c) => c.primaryKey())
      .addColumn('rail', 'varchar(16)', (c) => c.notNull())
      .addColumn('phone', 'varchar(32)', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('agreement_no', 'varchar(64)')
      .addColumn('payment_id', 'varchar(64)')
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('signed_at', 'varchar(32)')
      .addColumn('ended_at', 'varchar(32)')
      .addColumn('ended_by', 'varchar(16)')
      .execute();
    await db.schema
      .createIndex('rail_agreements_rail_no')
      .on('rail_agreements')
      .columns(['rail', 'agreement_no'])
      .unique()
      .execute();
    await db.schema
      .createIndex('rail_agreements_phone')
      .on('rail_agreements')
      .columns(['phone', 'status', 'signed_at'])
      .execute();
    await db.schema.createIndex('rail_agreements_payment').on('rail_agreements').column('payment_id').execute();
    await db.schema.alterTable('accounts').addColumn('quick_pay_at', 'varchar(32)').execute();
    await sql`UPDATE accounts SET quick_pay_at = created_at WHERE quick_pay = 1`.execute(db);
    await db.schema.alterTable('payments').addColumn('external_agreement_no', 'varchar(32)').execute();
  },
};

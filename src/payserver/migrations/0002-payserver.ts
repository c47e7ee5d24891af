import { sql, type Kysely, type Migration } from 'kysely';

/** The first migration, part one: accounts and the double-entry ledger (accounts, holds, journal, postings). */
async function ledgerTables(db: Kysely<any>) {
  await db.schema
    .createTable('accounts')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('phone', 'varchar(32)', (c) => c.notNull().unique())
    .addColumn('currency', 'varchar(3)', (c) => c.notNull())
    .addColumn('quick_pay', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('ledger_accounts')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('account_id', 'varchar(64)', (c) => c.references('accounts.id'))
    .addColumn('kind', 'varchar(16)', (c) => c.notNull())
    .addColumn('currency', 'varchar(3)', (c) => c.notNull())
    .addColumn('balance_minor', 'bigint', (c) => c.notNull())
    .addColumn('held_minor', 'bigint', (c) => c.notNull())
    .addColumn('card_last4', 'varchar(4)')
    .addCheckConstraint(
      'ledger_no_overdraft',
      sql`kind = 'external' OR (held_minor >= 0 AND balance_minor >= held_minor)`,
    )
    .execute();
  await db.schema.createIndex('ledger_accounts_owner').on('ledger_accounts').columns(['account_id', 'kind']).execute();
  await db.schema
    .createTable('holds')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('ledger_account_id', 'varchar(64)', (c) => c.notNull().references('ledger_accounts.id'))
    .addColumn('payment_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('amount_minor', 'bigint', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('resolved_at', 'varchar(32)')
    .execute();
  await db.schema
    .createTable('journal_entries')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('kind', 'varchar(16)', (c) => c.notNull())
    .addColumn('ref', 'varchar(64)', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('postings')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('entry_id', 'varchar(64)', (c) => c.notNull().references('journal_entries.id'))
    .addColumn('ledger_account_id', 'varchar(64)', (c) => c.notNull().references('ledger_accounts.id'))
    .addColumn('amount_minor', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('postings_account').on('postings').column('ledger_account_id').execute();
}

/** The first migration, part two: checkouts, payments and the checkout page's sessions. */
async function paymentTables(db: Kysely<any>) {
  await db.schema
    .createTable('checkouts')
    .addColumn('order_id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('link_token_hash', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('phone', 'varchar(32)', (c) => c.notNull())
    .addColumn('amount_minor', 'bigint', (c) => c.notNull())
    .addColumn('currency', 'varchar(3)', (c) => c.notNull())
    .addColumn('product_title', 'varchar(200)', (c) => c.notNull())
    .addColumn('payee', 'varchar(64)', (c) => c.notNull())
    .addColumn('device_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('expires_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('paid_payment_id', 'varchar(64)')
    .execute();
  await db.schema
    .createTable('payments')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('order_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('method', 'varchar(16)', (c) => c.notNull())
    .addColumn('phone', 'varchar(32)', (c) => c.notNull())
    .addColumn('account_id', 'varchar(64)')
    .addColumn('source', 'varchar(16)')
    .addColumn('hold_id', 'varchar(64)')
    .addColumn('amount_minor', 'bigint', (c) => c.notNull())
    .addColumn('currency', 'varchar(3)', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('failure_code', 'varchar(64)')
    .addColumn('code_hash', 'varchar(64)')
    .addColumn('code_expires_at', 'varchar(32)')
    .addColumn('wrong_replies', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('completed_at', 'varchar(32)')
    .execute();
  await db.schema
    .createIndex('payments_attempt')
    .on('payments')
    .columns(['order_id', 'attempt', 'method'])
    .unique()
    .execute();
  await db.schema.createIndex('payments_phone_status').on('payments').columns(['phone', 'status']).execute();
  await db.schema
    .createTable('page_sessions')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('order_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('phone', 'varchar(32)', (c) => c.notNull())
    .addColumn('code_hash', 'varchar(64)')
    .addColumn('code_expires_at', 'varchar(32)')
    .addColumn('wrong_tries', 'integer', (c) => c.notNull())
    .addColumn('grant_hash', 'varchar(64)')
    .addColumn('verified_at', 'varchar(32)')
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .execute();
}

/** The payment server's first tables: the wallets' ledger, checkouts and payments. */
export const coreTables: Migration = {
  async up(db: Kysely<any>) {
    await ledgerTables(db);
    await paymentTables(db);
  },
};

import type { Kysely, Migration } from 'kysely';

/**
 * The migrations of the tables every service has (common-tables.ts): each service's index lists them under
 * its own keys, so one definition makes the same tables everywhere.
 */
export const commonTablesMigration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('outbox')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('topic', 'varchar(64)', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('locked_until', 'varchar(32)')
      .addColumn('last_error', 'text')
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('done_at', 'varchar(32)')
      .execute();
    await db.schema.createIndex('outbox_due').on('outbox').columns(['status', 'next_attempt_at']).execute();
    await db.schema
      .createTable('idempotency_keys')
      .addColumn('scope', 'varchar(300)', (c) => c.notNull())
      .addColumn('idem_key', 'varchar(255)', (c) => c.notNull())
      .addColumn('request_hash', 'varchar(64)', (c) => c.notNull())
      .addColumn('state', 'varchar(16)', (c) => c.notNull())
      .addColumn('response_status', 'integer')
      .addColumn('response_body', 'text')
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addPrimaryKeyConstraint('idempotency_keys_pk', ['scope', 'idem_key'])
      .execute();
    await db.schema
      .createTable('rate_limits')
      .addColumn('bucket', 'varchar(200)', (c) => c.notNull())
      .addColumn('window_start', 'varchar(32)', (c) => c.notNull())
      .addColumn('hits', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('rate_limits_pk', ['bucket', 'window_start'])
      .execute();
    await db.schema
      .createTable('seen_nonces')
      .addColumn('nonce', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('seen_at', 'varchar(32)', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('sms_messages')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('kind', 'varchar(32)', (c) => c.notNull())
      .addColumn('to_phone', 'varchar(32)', (c) => c.notNull())
      .addColumn('sender', 'varchar(32)', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
      .execute();
  },
};

/** Adds what each SMS is for, so a failed delivery can be acted on. */
export const smsRefMigration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('sms_messages').addColumn('ref', 'varchar(64)').execute();
    await db.schema.createIndex('sms_messages_ref').on('sms_messages').column('ref').execute();
  },
};

/** Adds the gateway's message id, so a receipt is matched from the database, even after a restart. */
export const smsGatewayIdMigration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('sms_messages').addColumn('gateway_id', 'varchar(64)').execute();
    await db.schema.createIndex('sms_messages_gateway_id').on('sms_messages').column('gateway_id').execute();
  },
};

/** The correlation id of each outbox message, so what it does later is found with what started it. */
export const outboxCorrelationMigration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('outbox').addColumn('correlation_id', 'varchar(64)').execute();
  },
};

/**
 * Each outbox worker claims its own topics in due order from an index of
 * its own: a worker for one topic (the webhooks) no longer steps over a
 * backlog of the others' messages (a renewal day's charges) at every claim.
 */
export const outboxTopicMigration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createIndex('outbox_topic_due')
      .on('outbox')
      .columns(['status', 'topic', 'next_attempt_at'])
      .execute();
  },
};

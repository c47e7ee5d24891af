import type { Kysely, Migration } from 'kysely';

/**
 * Link tokens are no longer kept in plain text (core/link-tokens.ts): the column is renamed for what
 * it now holds, and the start of the back-end (which has the key) seals or drops what rows still hold.
 */
export const linkTokenSealed: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('orders').renameColumn('link_token', 'link_token_sealed').execute();
  },
};

import type { Kysely, Migration } from 'kysely';

/** The tries a code SMS has left, for the TV to show. */
export const triesLeft: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('orders').addColumn('tries_left', 'integer').execute();
  },
};

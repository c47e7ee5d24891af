import { sql, type Kysely, type Migration } from 'kysely';

/** The row of an order ended before its start was a `closed` checkout with currency XXX; it is a status of its own. */
export const neverStarted: Migration = {
  async up(db: Kysely<any>) {
    await sql`UPDATE checkouts SET status = 'never_started' WHERE currency = 'XXX'`.execute(db);
  },
};

import { sql, SqliteAdapter, type Kysely, type Migration } from 'kysely';

/**
 * What paid an order may be a money rail: 'wechatpay' (9 characters) does not fit the varchar(8) of
 * `paid_source` on PostgreSQL. SQLite does not enforce a varchar's length, so there is nothing to do there.
 */
export const widePaidSource: Migration = {
  async up(db: Kysely<any>) {
    if (db.getExecutor().adapter instanceof SqliteAdapter) return;
    await sql`ALTER TABLE orders ALTER COLUMN paid_source TYPE varchar(16)`.execute(db);
  },
};

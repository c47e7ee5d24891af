import { PostgresAdapter, type Kysely } from 'kysely';

/** Whether `db` (a store or one of its transactions) runs on PostgreSQL, for a statement only it can say in one. */
export const onPostgres = (db: Kysely<any>): boolean => db.getExecutor().adapter instanceof PostgresAdapter;

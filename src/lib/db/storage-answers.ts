import { sql, type Kysely } from 'kysely';

/** Whether the store answers a trivial query: what /readyz reports (a lost PostgreSQL is not ready). */
export async function storageAnswers(db: Kysely<any>): Promise<boolean> {
  await sql`SELECT 1`.execute(db);
  return true;
}

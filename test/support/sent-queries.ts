import type { CompiledQuery, Kysely } from 'kysely';

/**
 * Records every compiled query `db` runs from now on, as the SQL and values Kysely hands its driver: for tests
 * that hold a prepared query to the query a call would build on the spot.
 */
export function recordSentQueries(db: Kysely<any>): Array<[string, readonly unknown[]]> {
  const sent: Array<[string, readonly unknown[]]> = [];
  const execute = db.executeQuery.bind(db);
  db.executeQuery = ((q: CompiledQuery) => {
    sent.push([q.sql, q.parameters]);
    return execute(q);
  }) as typeof db.executeQuery;
  return sent;
}

import type { Compilable, CompiledQuery, Kysely } from 'kysely';

/**
 * A hot query built and compiled by Kysely once per store instead of on every
 * call: building and compiling a query costs more CPU than SQLite spends
 * running a primary-key lookup (BENCHMARKS.md). The builder must use each
 * parameter exactly once, in order, and nothing else as a value; the first
 * call checks that, so a builder that breaks the rule fails in the first test
 * that runs it rather than sending wrong values.
 */
export function preparedQuery<DB, P extends unknown[], R>(build: (db: Kysely<DB>, ...params: P) => Compilable<R>) {
  // Keyed by the store's adapter: the same object for a store and its transactions, one per dialect.
  const compiled = new WeakMap<object, CompiledQuery<R>>();
  return async (db: Kysely<DB>, ...params: P): Promise<R[]> => {
    const key = db.getExecutor().adapter;
    let query = compiled.get(key);
    if (!query) {
      query = build(db, ...params).compile();
      if (query.parameters.length !== params.length || query.parameters.some((v, i) => v !== params[i])) {
        throw new Error(`preparedQuery: the builder must use its parameters once each, in order, and no other values: ${query.sql}`);
      }
      compiled.set(key, query);
    }
    return (await db.executeQuery<R>({ ...query, parameters: params })).rows;
  };
}

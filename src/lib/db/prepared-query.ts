import type { Compilable, CompiledQuery, Kysely, QueryResult } from 'kysely';

interface Prepared<R> {
  query: CompiledQuery<R>;
  /** Per compiled parameter: the index of the call's parameter it is, or a constant of the query. */
  slots: Array<{ param: number } | { value: unknown }>;
}

/**
 * A hot query built and compiled by Kysely once per store instead of on every
 * call: building and compiling a query cost more CPU than SQLite spent running
 * a primary-key lookup (BENCHMARKS.md).
 *
 * The builder is first called with a unique stand-in for each parameter; the
 * compiled query's values are then either a stand-in (filled from each call's
 * parameters) or a constant of the query (kept). The builder must therefore
 * pass its parameters into the query as values, not compute with them: one
 * that does, or that drops a parameter, fails on its first call, in the first
 * test that runs it, rather than sending wrong values.
 */
export function preparedQuery<DB, P extends unknown[], R>(build: (db: Kysely<DB>, ...params: P) => Compilable<R>) {
  // Keyed by the store's adapter: the same object for a store and its transactions, one per dialect.
  const prepared = new WeakMap<object, Prepared<R>>();
  return async (db: Kysely<DB>, ...params: P): Promise<QueryResult<R>> => {
    const key = db.getExecutor().adapter;
    let p = prepared.get(key);
    if (!p) {
      p = prepare(db, build, params.length);
      prepared.set(key, p);
    }
    const parameters = p.slots.map((slot) => ('param' in slot ? params[slot.param] : slot.value));
    return db.executeQuery<R>({ ...p.query, parameters });
  };
}

function prepare<DB, P extends unknown[], R>(
  db: Kysely<DB>,
  build: (db: Kysely<DB>, ...params: P) => Compilable<R>,
  arity: number,
): Prepared<R> {
  const standIns = Array.from({ length: arity }, (_, i) => Symbol(`param ${i}`));
  const query = build(db, ...(standIns as unknown as P)).compile();
  const slots = query.parameters.map((value) => {
    const param = standIns.indexOf(value as symbol);
    return param >= 0 ? { param } : { value };
  });
  const unused = standIns.filter((_, i) => !slots.some((s) => 'param' in s && s.param === i));
  if (unused.length > 0) {
    throw new Error(
      `preparedQuery: ${unused.map(String).join(', ')} did not reach the query as a value ` +
        `(computed with, or not used): ${query.sql}`,
    );
  }
  return { query, slots };
}

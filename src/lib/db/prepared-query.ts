import { isDeepStrictEqual } from 'node:util';
import type { Compilable, CompiledQuery, Kysely, QueryResult, RawBuilder } from 'kysely';

interface Prepared {
  query: CompiledQuery;
  /** Per compiled parameter: the index of the call's parameter it is, or a constant of the query. */
  slots: Array<{ param: number } | { value: unknown }>;
  /** Calls that have still to check it against the query they build themselves (check). */
  toCheck: number;
}

/** A builder of the query: Kysely's builders, or a raw `sql` statement (compiled with the store's executor). */
type Build<DB, P extends unknown[], R> = (db: Kysely<DB>, ...params: P) => Compilable<R> | RawBuilder<R>;

/** The query `build` makes of `params`, compiled for `db`. */
const compiled = <DB, P extends unknown[], R>(db: Kysely<DB>, build: Build<DB, P, R>, params: P): CompiledQuery<R> =>
  build(db, ...params).compile(db);

/**
 * How many of its first calls check a prepared query against the query they build themselves: the first (a
 * parameter that decides the SQL, since its stand-in decided it differently) and the second (a value of the
 * first call's frozen into the query, or a key that does not name the whole shape).
 */
const CHECKED_CALLS = 2;

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
 * test that runs it, rather than sending wrong values. The first two calls
 * also build the query with their own values and fail unless it is the one
 * they send.
 */
export function preparedQuery<DB, P extends unknown[], R>(build: Build<DB, P, R>) {
  // Keyed by the store's adapter: the same object for a store and its transactions, one per dialect.
  const prepared = new WeakMap<object, Prepared>();
  return async (db: Kysely<DB>, ...params: P): Promise<QueryResult<R>> => {
    const adapter = db.getExecutor().adapter;
    let p = prepared.get(adapter);
    if (!p) {
      p = prepare(db, build, params.length);
      prepared.set(adapter, p);
    }
    return run(db, p, build, params);
  };
}

/**
 * preparedQuery for queries whose SQL varies with the call (optional filters, a list's length, a number of
 * rows or entries): one compiled query per `key` and adapter. The key names everything but the parameters
 * that decides the query: each call passes its builder and its parameters, and the builder runs only for a
 * key not seen before on that adapter, so a value it takes other than as a parameter is frozen into the query
 * for every later call with the key. The first two calls of each key check it (as preparedQuery's do): a key
 * that misses part of the shape, or a value frozen in, fails at once rather than sending another call's SQL.
 * Past `limit` keys on an adapter (a key that names values, not a shape), a new key's query is built and
 * compiled on each call, as without this.
 */
export function preparedQueries(limit = 64) {
  const prepared = new WeakMap<object, Map<string, Prepared>>();
  return async <DB, P extends unknown[], R>(
    db: Kysely<DB>,
    key: string,
    build: Build<DB, P, R>,
    ...params: P
  ): Promise<QueryResult<R>> => {
    const adapter = db.getExecutor().adapter;
    let byKey = prepared.get(adapter);
    if (!byKey) prepared.set(adapter, (byKey = new Map()));
    let p = byKey.get(key);
    if (!p) {
      if (byKey.size >= limit) return db.executeQuery(compiled(db, build, params));
      p = prepare(db, build, params.length);
      byKey.set(key, p);
    }
    return run(db, p, build, params);
  };
}

/**
 * Hands out a builder's parameters in turn (the next one at each call): for a builder of many shapes, whose
 * parameters are listed in the order it takes them.
 */
export function inTurn(params: readonly unknown[]): <T = unknown>() => T {
  let i = 0;
  return <T>() => params[i++] as T;
}

async function run<DB, P extends unknown[], R>(
  db: Kysely<DB>,
  p: Prepared,
  build: Build<DB, P, R>,
  params: P,
): Promise<QueryResult<R>> {
  const parameters = p.slots.map((slot) => ('param' in slot ? params[slot.param] : slot.value));
  if (p.toCheck > 0) {
    p.toCheck--;
    const own = compiled(db, build, params);
    if (own.sql !== p.query.sql || !isDeepStrictEqual(own.parameters, parameters)) {
      throw new Error(
        'preparedQuery: the query kept is not the one this call builds (a parameter decides its SQL, its key ' +
          `misses part of its shape, or a value is frozen in): ${p.query.sql}`,
      );
    }
  }
  return db.executeQuery<R>({ ...(p.query as CompiledQuery<R>), parameters });
}

function prepare<DB, P extends unknown[], R>(db: Kysely<DB>, build: Build<DB, P, R>, arity: number): Prepared {
  const standIns = Array.from({ length: arity }, (_, i) => Symbol(`param ${i}`));
  const query = compiled(db, build, standIns as unknown as P);
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
  return { query, slots, toCheck: CHECKED_CALLS };
}

import {
  isExpression,
  sql,
  type Insertable,
  type Kysely,
  type Selectable,
  type Transaction,
  type Updateable,
} from 'kysely';
import { affected } from './affected.ts';
import { inTurn, preparedQueries } from './prepared-query.ts';

/** A column compared other than by equality: what a forward-only move or a guarded read also asks. */
class Compared<V> {
  constructor(
    readonly op: '<>' | '!=' | '<' | '<=' | '>' | '>=' | 'is not',
    readonly value: V,
  ) {}
}

/** `column op value` inside a `Match`, e.g. `{ attempt: compared('<=', attempt) }` (never lets a count go back). */
export function compared<V>(op: Compared<V>['op'], value: V): Compared<V> {
  return new Compared(op, value);
}

/**
 * Which rows: each column of it equals its value (`null`: the column IS NULL; a list: the column is IN it;
 * `compared(op, v)`: the column op v), all together. A key whose value is `undefined` is refused rather
 * than dropped, since dropping it would widen the WHERE silently.
 */
export type Match<Row> = { [C in keyof Row]?: Row[C] | readonly Row[C][] | Compared<Row[C]> };

/**
 * A database or a transaction on it. Named apart because TypeScript infers a transaction's tables from
 * `Transaction<DB>` but not from `Kysely<DB>`, which it extends; so a helper typed by its caller takes this.
 */
type DbOrTransaction<DB> = Kysely<DB> | Transaction<DB>;

/**
 * The statements of these helpers, built and compiled once per shape (preparedQueries): the table, the columns
 * a match compares and how (a list by its length), the columns a change sets. Every store reads and moves its
 * rows through them, so their building was a large share of each service's CPU.
 */
const statements = preparedQueries(256);

/** A query that takes a WHERE (a select or an update). */
type Where = { where(column: string, op: string, value: unknown): any };

/** How `match` decides a WHERE: `key` names its SQL, `values` its parameters, `where` writes it taking them in turn. */
function whereOf(match: object) {
  const terms = Object.entries(match).map(([column, value]: [string, unknown]) => {
    if (value === undefined) throw new Error(`rows: no value for ${column}`);
    const [op, v] =
      value instanceof Compared
        ? [value.op, value.value]
        : [value === null ? 'is' : Array.isArray(value) ? 'in' : '=', value];
    // Kysely writes an IS of null or of a boolean into the SQL: no parameter.
    if ((op === 'is' || op === 'is not') && (v === null || typeof v === 'boolean'))
      return { column, op, key: `${column} ${op} ${String(v)}`, values: [], value: () => v };
    if (Array.isArray(v))
      return {
        column,
        op,
        key: `${column} ${op} ${v.length}`,
        values: v,
        value: (n: () => unknown) => v.map(() => n()),
      };
    return { column, op, key: `${column} ${op}`, values: [v], value: (n: () => unknown) => n() };
  });
  return {
    key: terms.map((t) => t.key).join(', '),
    values: terms.flatMap((t) => t.values),
    where: <Q extends Where>(query: Q, next: () => unknown): Q =>
      terms.reduce((q, t) => q.where(t.column, t.op, t.value(next)), query),
  };
}

/**
 * How a SET (or a row to insert) decides its statement: `key` names the columns it sets (one set to an
 * expression by that expression's own SQL), `values` its parameters, `columns` writes it taking them in turn.
 * Kysely leaves out a column set to undefined, as this does. A column set by a function (of Kysely's expression
 * builder) is taken for a value: the prepared query's check refuses it at its first call.
 */
export function columnsOf(set: object) {
  const entries = Object.entries(set).filter(([, v]) => v !== undefined);
  return {
    key: entries.map(([c, v]) => (isExpression(v) ? `${c}=${JSON.stringify(v.toOperationNode())}` : c)).join(', '),
    values: entries.flatMap(([, v]) => (isExpression(v) ? [] : [v])),
    columns: (next: () => unknown): object =>
      Object.fromEntries(entries.map(([c, v]) => [c, isExpression(v) ? v : next()])),
  };
}

/**
 * Adds one whole row to `table`, as the store that owns the table records a new thing; a key or a unique
 * index the row breaks throws, so the caller learns of a second writer rather than overwriting it.
 */
export async function insertRow<DB, T extends keyof DB & string>(
  db: Kysely<DB>,
  table: T,
  row: Insertable<DB[T]>,
): Promise<void> {
  const columns = columnsOf(row as object);
  await statements(
    db as Kysely<any>,
    `insert ${table} (${columns.key})`,
    (d: Kysely<any>, ...p: unknown[]) => d.insertInto(table).values(columns.columns(inTurn(p))),
    ...columns.values,
  );
}

/**
 * The opening every store of a keyed table would otherwise write out again: `insert` adds a whole row (as
 * `insertRow`), `byKey` reads the row with that key, and `oneBy(column)` reads the one row a unique column
 * names. Naming a table here makes the calling file a writer of it (the one-writer rule counts it), so only
 * the store that owns the table opens it this way. Typed by the database the caller passes, at each call.
 */
export function tableRows<T extends string, K extends string>(table: T, key: K) {
  const oneBy =
    <C extends string>(column: C) =>
    <DB extends Record<T, Record<C, unknown>>>(
      db: DbOrTransaction<DB>,
      value: DB[T][C],
    ): Promise<Selectable<DB[T]> | undefined> =>
      rowWhere(db, table, { [column]: value } as unknown as Match<DB[T]>);
  return {
    insert: <DB extends Record<T, object>>(db: DbOrTransaction<DB>, row: Insertable<DB[T]>): Promise<void> =>
      insertRow(db, table, row),
    byKey: oneBy(key),
    oneBy,
  };
}

/** The one row of `table` that `match` names (by its key, or a key and its owner), or undefined. */
export function rowWhere<DB, T extends keyof DB & string>(
  db: Kysely<DB>,
  table: T,
  match: Match<DB[T]>,
): Promise<Selectable<DB[T]> | undefined> {
  return rowsOf(db, table, match).then((rows) => rows[0]);
}

/** The rows of `table` that `match` names, in the order of `orderBy`, `limit` of them at most if given. */
async function rowsOf<DB, T extends keyof DB & string>(
  db: Kysely<DB>,
  table: T,
  match: object,
  orderBy: ReadonlyArray<{ column: string; desc?: boolean }> = [],
  limit?: number,
): Promise<Array<Selectable<DB[T]>>> {
  const where = whereOf(match);
  const order = orderBy.map((o) => `${o.column}${o.desc ? ' desc' : ''}`).join(', ');
  const key = `select ${table} where ${where.key} order ${order}${limit === undefined ? '' : ' limit'}`;
  const build = (d: Kysely<any>, ...p: unknown[]) => {
    const next = inTurn(p);
    let q = where.where(d.selectFrom(table).selectAll(), next);
    for (const o of orderBy) q = o.desc ? q.orderBy(o.column, 'desc') : q.orderBy(o.column);
    return limit === undefined ? q : q.limit(next<number>());
  };
  const params = limit === undefined ? where.values : [...where.values, limit];
  return (await statements(db as Kysely<any>, key, build, ...params)).rows as Array<Selectable<DB[T]>>;
}

/**
 * The rows of `table` that `match` names, in the order of `orderBy` (ascending, or `desc` for newest first),
 * as a feature lists what belongs to one thing: an order's refunds oldest first, a phone's agreements newest.
 */
export function rowsWhere<DB, T extends keyof DB & string>(
  db: Kysely<DB>,
  table: T,
  match: Match<DB[T]>,
  orderBy: ReadonlyArray<keyof DB[T] & string> = [],
  direction: 'asc' | 'desc' = 'asc',
): Promise<Array<Selectable<DB[T]>>> {
  return rowsOf(
    db,
    table,
    match,
    orderBy.map((column) => ({ column, desc: direction === 'desc' })),
  );
}

/**
 * The rows of `table` that `match` names whose time in `column` has come (at `now` or before), soonest first,
 * at most `limit`: what a notifier or a sweeper works through next, the longest waiting first.
 */
export function rowsDue<DB, T extends keyof DB & string, C extends keyof DB[T] & string>(
  db: Kysely<DB>,
  table: T,
  match: Match<DB[T]>,
  column: C,
  now: DB[T][C],
  limit: number,
): Promise<Array<Selectable<DB[T]>>> {
  return rowsOf(db, table, { ...match, [column]: compared('<=', now) }, [{ column }], limit);
}

/**
 * `column` within [from, to): the half-open window a day or a run covers, so an instant on the boundary
 * belongs to exactly one window. Typed loosely, as it serves any table's (or join's) select.
 */
export function whereInRange<Q>(query: Q, column: string, [from, to]: readonly [string, string]): Q {
  const q = query as unknown as { where(column: string, op: string, value: string): typeof q };
  return q.where(column, '>=', from).where(column, '<', to) as unknown as Q;
}

/**
 * The rows of `table` whose `column` falls in [from, to), in its order (then by `thenBy`): what happened
 * in a day or a run's window, as a reconciliation or a bill reads it.
 */
export function rowsInRange<DB, T extends keyof DB & string>(
  db: Kysely<DB>,
  table: T,
  column: keyof DB[T] & string,
  [from, to]: readonly [string, string],
  thenBy: ReadonlyArray<keyof DB[T] & string> = [],
): Promise<Array<Selectable<DB[T]>>> {
  let q = whereInRange((db as Kysely<any>).selectFrom(table).selectAll(), column, [from, to]);
  for (const c of [column, ...thenBy]) q = q.orderBy(c);
  return q.execute() as Promise<Array<Selectable<DB[T]>>>;
}

/**
 * Moves a row forward in one conditional UPDATE: `set` is written only where every column of `from` still
 * holds (the row's key and the state it leaves), so of two racing callers one moves it and the other
 * learns it lost. Whether this call moved exactly one row.
 */
export async function moveRow<DB, T extends keyof DB & string>(
  db: Kysely<DB>,
  table: T,
  from: Match<DB[T]>,
  set: Updateable<DB[T]>,
): Promise<boolean> {
  const where = whereOf(from);
  const columns = columnsOf(set as object);
  const build = (d: Kysely<any>, ...p: unknown[]) => {
    const next = inTurn(p);
    return where.where(d.updateTable(table).set(columns.columns(next)), next);
  };
  const key = `update ${table} set ${columns.key} where ${where.key}`;
  return affected(await statements(db as Kysely<any>, key, build, ...columns.values, ...where.values)) === 1;
}

/** The columns of a row that hold a number (a count, an amount in minor units). */
type NumberColumn<Row> = { [C in keyof Row]: Row[C] extends number ? C : never }[keyof Row] & string;

/**
 * Takes `amount` off `column` of the rows `match` names, only where at least `amount` is left there, in one
 * conditional UPDATE (`SET column = column - amount WHERE … AND column >= amount`): what is given back twice,
 * or by racing callers, can never take the figure below zero. `alsoSet` is set in the same statement (a row
 * version). How many rows were lowered.
 */
export async function lowerRow<DB, T extends keyof DB & string>(
  db: DbOrTransaction<DB>,
  table: T,
  match: Match<DB[T]>,
  column: NumberColumn<DB[T]>,
  amount: number,
  alsoSet: object = {},
): Promise<number> {
  const where = whereOf({ ...match, [column]: compared('>=', amount) });
  const also = columnsOf(alsoSet);
  const build = (d: Kysely<any>, ...p: unknown[]) => {
    const next = inTurn(p);
    const by = next();
    return where.where(
      d.updateTable(table).set({ ...also.columns(next), [column]: sql`${sql.ref(column)} - ${by}` } as object),
      next,
    );
  };
  const key = `lower ${table} ${column} set ${also.key} where ${where.key}`;
  return affected(await statements(db as Kysely<any>, key, build, amount, ...also.values, ...where.values));
}

import { sql, type Insertable, type Kysely, type Selectable, type Transaction, type Updateable } from 'kysely';
import { affected } from './affected.ts';

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

/** The WHERE of `match`, on any query that takes one (select or update). */
function whereMatch<Q extends { where(column: string, op: string, value: unknown): Q }>(query: Q, match: object): Q {
  let q = query;
  for (const [column, value] of Object.entries(match)) {
    if (value === undefined) throw new Error(`rows: no value for ${column}`);
    if (value instanceof Compared) q = q.where(column, value.op, value.value);
    else q = q.where(column, value === null ? 'is' : Array.isArray(value) ? 'in' : '=', value);
  }
  return q;
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
  await (db as Kysely<any>)
    .insertInto(table)
    .values(row as object)
    .execute();
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
  return whereMatch((db as Kysely<any>).selectFrom(table).selectAll(), match).executeTakeFirst() as Promise<
    Selectable<DB[T]> | undefined
  >;
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
  let q = whereMatch((db as Kysely<any>).selectFrom(table).selectAll(), match);
  for (const column of orderBy) q = direction === 'desc' ? q.orderBy(column, 'desc') : q.orderBy(column);
  return q.execute() as Promise<Array<Selectable<DB[T]>>>;
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
  const due = whereMatch((db as Kysely<any>).selectFrom(table).selectAll(), {
    ...match,
    [column]: compared('<=', now),
  });
  return due.orderBy(column).limit(limit).execute() as Promise<Array<Selectable<DB[T]>>>;
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
  const res = await whereMatch((db as Kysely<any>).updateTable(table).set(set as object), from).executeTakeFirst();
  return affected(res) === 1;
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
  const lowered = (db as Kysely<any>)
    .updateTable(table)
    .set({ ...alsoSet, [column]: sql`${sql.ref(column)} - ${amount}` } as object);
  return affected(await whereMatch(lowered, { ...match, [column]: compared('>=', amount) }).executeTakeFirst());
}

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql, type Kysely } from 'kysely';
import { openDatabase } from './open-database.ts';
import { recordSentQueries } from '../../../test/support/sent-queries.ts';
import { preparedQueries, preparedQuery } from './prepared-query.ts';

interface Db {
  items: { id: string; kind: string };
}

async function store() {
  const { db, close } = openDatabase<Db>(':memory:');
  await db.schema
    .createTable('items')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text')
    .execute();
  await db
    .insertInto('items')
    .values([
      { id: 'a', kind: 'x' },
      { id: 'b', kind: 'y' },
    ])
    .execute();
  return { db, close };
}

describe('prepared queries', () => {
  it('runs the query compiled on the first call with each later call’s own values, also in a transaction', async () => {
    const { db, close } = await store();
    const byId = preparedQuery((d: Kysely<Db>, id: string) => d.selectFrom('items').selectAll().where('id', '=', id));
    assert.deepEqual((await byId(db, 'a')).rows, [{ id: 'a', kind: 'x' }]);
    assert.deepEqual((await byId(db, 'b')).rows, [{ id: 'b', kind: 'y' }]);
    assert.deepEqual((await byId(db, 'zz')).rows, []);
    assert.deepEqual(await db.transaction().execute(async (trx) => (await byId(trx, 'b')).rows), [
      { id: 'b', kind: 'y' },
    ]);
    await close();
  });

  it('keeps the query’s own constants and fills a parameter used twice', async () => {
    const { db, close } = await store();
    const q = preparedQuery((d: Kysely<Db>, id: string) =>
      d
        .selectFrom('items')
        .selectAll()
        .where('kind', '=', 'x')
        .where((eb) => eb.or([eb('id', '=', id), eb('kind', '=', id)])),
    );
    assert.deepEqual((await q(db, 'a')).rows, [{ id: 'a', kind: 'x' }]);
    assert.deepEqual((await q(db, 'b')).rows, [], 'b is of kind y');
    await close();
  });

  it('prepares a raw `sql` statement as a built one, compiled for the store it runs on', async () => {
    const { db, close } = await store();
    const byId = preparedQuery(
      (d: Kysely<Db>, id: string) => sql<Db['items']>`select * from "items" where "id" = ${id}`,
    );
    assert.deepEqual((await byId(db, 'a')).rows, [{ id: 'a', kind: 'x' }]);
    assert.deepEqual((await byId(db, 'b')).rows, [{ id: 'b', kind: 'y' }]);
    await close();
  });

  it('refuses a builder that computes with a parameter instead of passing it (a value frozen in)', async () => {
    const { db, close } = await store();
    const computed = preparedQuery((d: Kysely<Db>, id: string) =>
      d.selectFrom('items').selectAll().where('id', '=', String(id).toLowerCase()),
    );
    await assert.rejects(computed(db, 'A'), /did not reach the query as a value/);
    await close();
  });
});

describe('prepared queries by key', () => {
  /** A query whose shape depends on `kind` being given: the key says which. */
  const items = (d: Kysely<Db>, id: string, kind?: string) => {
    const q = d.selectFrom('items').selectAll().where('id', '>=', id);
    return kind === undefined ? q : q.where('kind', '=', kind);
  };

  it('sends for each key the SQL and values the call would build itself, with each call’s own values', async () => {
    const { db, close } = await store();
    const run = preparedQueries();
    const sent = recordSentQueries(db);
    const byKind = (id: string, kind: string) =>
      run(db, 'by kind', (k: Kysely<Db>, i: string, w: string) => items(k, i, w), id, kind);
    const all = (id: string) => run(db, 'all', (k: Kysely<Db>, i: string) => items(k, i), id);
    assert.deepEqual((await byKind('a', 'x')).rows, [{ id: 'a', kind: 'x' }]);
    assert.deepEqual((await byKind('a', 'y')).rows, [{ id: 'b', kind: 'y' }]);
    assert.deepEqual((await all('b')).rows, [{ id: 'b', kind: 'y' }]);
    assert.deepEqual((await byKind('c', 'y')).rows, []);
    assert.deepEqual((await all('a')).rows, [
      { id: 'a', kind: 'x' },
      { id: 'b', kind: 'y' },
    ]);
    const built = [items(db, 'a', 'x'), items(db, 'a', 'y'), items(db, 'b'), items(db, 'c', 'y'), items(db, 'a')];
    assert.deepEqual(
      sent,
      built.map((q) => [q.compile().sql, q.compile().parameters]),
      'the SQL and values of the same queries built on the spot',
    );
    await close();
  });

  it('fails at a key’s second call when its key misses part of the shape, or a value was frozen into it', async () => {
    const { db, close } = await store();
    const run = preparedQueries();
    const shapeless = (id: string, kind?: string) =>
      run(db, 'one key for two shapes', (k: Kysely<Db>, i: string) => items(k, i, kind), id);
    await shapeless('a');
    await assert.rejects(shapeless('a', 'x'), /not the one this call builds/);
    const frozen = (id: string) =>
      run(db, 'a value frozen in', (k: Kysely<Db>) => k.selectFrom('items').selectAll().where('id', '=', id));
    await frozen('a');
    await assert.rejects(frozen('b'), /not the one this call builds/);
    await close();
  });

  it('builds each call’s query on the spot once an adapter holds `limit` keys', async () => {
    const { db, close } = await store();
    const run = preparedQueries(1);
    let builds = 0;
    const byId = (key: string, id: string) =>
      run(
        db,
        key,
        (k: Kysely<Db>, i: string) => {
          builds++;
          return items(k, i);
        },
        id,
      );
    await byId('first', 'a');
    await byId('first', 'a');
    await byId('first', 'b');
    assert.equal(builds, 3, 'built with stand-ins, then by its two checked calls, then kept');
    assert.deepEqual((await byId('second', 'b')).rows, [{ id: 'b', kind: 'y' }]);
    await byId('second', 'b');
    assert.equal(builds, 5, 'a key past the limit is built on each call');
    await close();
  });
});

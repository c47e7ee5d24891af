import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Kysely } from 'kysely';
import { openDatabase } from './open-database.ts';
import { preparedQuery } from './prepared-query.ts';

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

  it('refuses a builder that computes with a parameter instead of passing it (a value frozen in)', async () => {
    const { db, close } = await store();
    const computed = preparedQuery((d: Kysely<Db>, id: string) =>
      d.selectFrom('items').selectAll().where('id', '=', String(id).toLowerCase()),
    );
    await assert.rejects(computed(db, 'A'), /did not reach the query as a value/);
    await close();
  });
});

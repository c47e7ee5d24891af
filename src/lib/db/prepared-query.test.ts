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
  await db.schema.createTable('items').addColumn('id', 'text', (c) => c.primaryKey()).addColumn('kind', 'text').execute();
  await db.insertInto('items').values([{ id: 'a', kind: 'x' }, { id: 'b', kind: 'y' }]).execute();
  return { db, close };
}

describe('prepared queries', () => {
  it('runs the query compiled on the first call with each later call’s own values, also inside a transaction', async () => {
    const { db, close } = await store();
    const byId = preparedQuery((d: Kysely<Db>, id: string) => d.selectFrom('items').selectAll().where('id', '=', id));
    assert.deepEqual(await byId(db, 'a'), [{ id: 'a', kind: 'x' }]);
    assert.deepEqual(await byId(db, 'b'), [{ id: 'b', kind: 'y' }]);
    assert.deepEqual(await byId(db, 'zz'), []);
    assert.deepEqual(await db.transaction().execute((trx) => byId(trx, 'b')), [{ id: 'b', kind: 'y' }]);
    await close();
  });

  it('refuses a builder that puts a value of its own into the query, which would be frozen in', async () => {
    const { db, close } = await store();
    const sneaky = preparedQuery((d: Kysely<Db>, id: string) => d.selectFrom('items').selectAll().where('id', '=', id).where('kind', '=', 'x'));
    await assert.rejects(sneaky(db, 'a'), /use its parameters once each, in order/);
    await close();
  });
});

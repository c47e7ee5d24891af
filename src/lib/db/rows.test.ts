import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Kysely } from 'kysely';
import { openDatabase } from './open-database.ts';
import { recordSentQueries } from '../../../test/support/sent-queries.ts';
import {
  compared,
  insertRow,
  lowerRow,
  moveRow,
  rowsDue,
  rowsInRange,
  rowsWhere,
  rowWhere,
  tableRows,
} from './rows.ts';

interface Tables {
  things: { id: string; owner: string; state: string; note: string | null; at: string };
  counts: { id: string; n: number };
}

async function kit() {
  const store = openDatabase<Tables>(':memory:');
  await (store.db as Kysely<any>).schema
    .createTable('things')
    .addColumn('id', 'varchar(8)', (c) => c.primaryKey())
    .addColumn('owner', 'varchar(8)', (c) => c.notNull())
    .addColumn('state', 'varchar(8)', (c) => c.notNull())
    .addColumn('note', 'varchar(8)')
    .addColumn('at', 'varchar(8)', (c) => c.notNull())
    .execute();
  await (store.db as Kysely<any>).schema
    .createTable('counts')
    .addColumn('id', 'varchar(8)', (c) => c.primaryKey())
    .addColumn('n', 'integer', (c) => c.notNull())
    .execute();
  await store.db
    .insertInto('counts')
    .values([
      { id: 'p', n: 5 },
      { id: 'q', n: 1 },
    ])
    .execute();
  await store.db
    .insertInto('things')
    .values([
      { id: 'b', owner: 'o1', state: 'new', note: null, at: '2' },
      { id: 'a', owner: 'o1', state: 'new', note: 'x', at: '2' },
      { id: 'c', owner: 'o1', state: 'done', note: null, at: '1' },
      { id: 'd', owner: 'o2', state: 'new', note: null, at: '0' },
    ])
    .execute();
  return store;
}

describe('rows', () => {
  it('finds a row by every column of its match, null meaning IS NULL', async () => {
    const { db, close } = await kit();
    assert.equal((await rowWhere(db, 'things', { id: 'a' }))?.note, 'x');
    assert.equal(await rowWhere(db, 'things', { id: 'a', owner: 'o2' }), undefined);
    assert.equal((await rowWhere(db, 'things', { owner: 'o1', note: null, state: 'done' }))?.id, 'c');
    await close();
  });

  it('lists the rows of a match in the order asked, a list meaning IN', async () => {
    const { db, close } = await kit();
    const ids = async (rows: Promise<Array<{ id: string }>>) => (await rows).map((r) => r.id);
    assert.deepEqual(await ids(rowsWhere(db, 'things', { owner: 'o1' }, ['at', 'id'])), ['c', 'a', 'b']);
    assert.deepEqual(await ids(rowsWhere(db, 'things', { state: ['done', 'gone'] }, ['id'])), ['c']);
    assert.deepEqual(await ids(rowsWhere(db, 'things', { owner: 'o1', note: null }, ['id'])), ['b', 'c']);
    await close();
  });

  it('compares a column other than by equality, lists newest first, and inserts a whole row', async () => {
    const { db, close } = await kit();
    const ids = async (rows: Promise<Array<{ id: string }>>) => (await rows).map((r) => r.id);
    assert.deepEqual(await ids(rowsWhere(db, 'things', { owner: 'o1' }, ['at', 'id'], 'desc')), ['b', 'a', 'c']);
    assert.deepEqual(await ids(rowsWhere(db, 'things', { at: compared('<=', '1') }, ['id'])), ['c', 'd']);
    assert.equal((await rowWhere(db, 'things', { owner: 'o1', state: compared('<>', 'new') }))?.id, 'c');
    assert.equal((await rowWhere(db, 'things', { note: compared('is not', null) }))?.id, 'a');
    await insertRow(db, 'things', { id: 'e', owner: 'o3', state: 'new', note: null, at: '9' });
    assert.equal((await rowWhere(db, 'things', { owner: 'o3' }))?.id, 'e');
    await assert.rejects(insertRow(db, 'things', { id: 'e', owner: 'o3', state: 'new', note: null, at: '9' }));
    await close();
  });

  it('lists the rows whose column falls in [from, to), in its order and then by the tie-breakers', async () => {
    const { db, close } = await kit();
    const ids = (await rowsInRange(db, 'things', 'at', ['1', '3'], ['id'])).map((r) => r.id);
    assert.deepEqual(ids, ['c', 'a', 'b']);
    assert.deepEqual(await rowsInRange(db, 'things', 'at', ['1', '2']).then((r) => r.map((x) => x.id)), ['c']);
    await close();
  });

  it('moves a row only from the state it leaves, once: the second of two moves loses', async () => {
    const { db, close } = await kit();
    assert.equal(await moveRow(db, 'things', { id: 'a', state: ['new', 'old'] }, { state: 'done' }), true);
    assert.equal(await moveRow(db, 'things', { id: 'a', state: ['new', 'old'] }, { state: 'done' }), false);
    assert.equal(await moveRow(db, 'things', { id: 'b', note: 'x' }, { state: 'done' }), false);
    assert.equal(await moveRow(db, 'things', { owner: 'o1' }, { note: 'y' }), false, 'three rows is not one');
    assert.equal((await rowWhere(db, 'things', { id: 'b' }))?.note, 'y');
    await close();
  });

  it("builds each shape of a match or change once, and sends every call's own values in its SQL", async () => {
    const { db, close } = await kit();
    const sent = recordSentQueries(db);
    for (const id of ['a', 'b', 'c', 'd']) assert.equal((await rowWhere(db, 'things', { id }))?.id, id, `row ${id}`);
    const onSpot = db.selectFrom('things').selectAll().where('id', '=', 'd').compile();
    assert.deepEqual(sent[3], [onSpot.sql, onSpot.parameters], 'the SQL and values Kysely builds on the spot');
    assert.equal((await rowWhere(db, 'things', { owner: 'o2', note: null }))?.id, 'd');
    assert.equal((await rowWhere(db, 'things', { owner: 'o1', note: 'x' }))?.id, 'a', 'IS NULL is a shape of its own');
    const states = async (state: string[]) => (await rowsWhere(db, 'things', { state }, ['id'])).map((r) => r.id);
    assert.deepEqual(await states(['done']), ['c']);
    assert.deepEqual(await states(['done', 'new']), ['a', 'b', 'c', 'd'], 'a longer list is a shape of its own');
    for (const id of ['a', 'b', 'd']) {
      assert.equal(await moveRow(db, 'things', { id, state: 'new' }, { state: 'done', note: `n${id}` }), true);
      assert.equal((await rowWhere(db, 'things', { id }))?.note, `n${id}`, `row ${id} got its own value`);
    }
    await close();
  });

  it('refuses a match with an undefined value rather than widening the WHERE', async () => {
    const { db, close } = await kit();
    await assert.rejects(moveRow(db, 'things', { id: undefined, state: 'new' }, { state: 'done' }), /no value for id/);
    assert.equal((await rowsWhere(db, 'things', { state: 'done' })).length, 1);
    await close();
  });

  it('opens a keyed table: inserts a whole row, reads it by its key or by a unique column', async () => {
    const { db, close } = await kit();
    const things = tableRows('things', 'id');
    await things.insert(db, { id: 'e', owner: 'o3', state: 'new', note: null, at: '9' });
    assert.equal((await things.byKey(db, 'e'))?.owner, 'o3');
    assert.equal(await things.byKey(db, 'z'), undefined);
    assert.equal((await things.oneBy('owner')(db, 'o2'))?.id, 'd');
    await assert.rejects(things.insert(db, { id: 'e', owner: 'o4', state: 'new', note: null, at: '9' }));
    await close();
  });

  it('lowers a number only where enough is left, so giving back twice never goes below zero', async () => {
    const { db, close } = await kit();
    const n = async (id: string) => (await rowWhere(db, 'counts', { id }))?.n;
    assert.equal(await lowerRow(db, 'counts', { id: 'p' }, 'n', 3), 1);
    assert.equal(await lowerRow(db, 'counts', { id: 'p' }, 'n', 3), 0, 'only 2 was left');
    assert.equal(await n('p'), 2);
    assert.equal(await lowerRow(db, 'counts', { id: ['p', 'q'] }, 'n', 2), 1, 'q has 1 left, p has 2');
    assert.deepEqual([await n('p'), await n('q')], [0, 1]);
    await close();
  });

  it('lists the rows whose time has come, soonest first, at most as many as asked', async () => {
    const { db, close } = await kit();
    const ids = (rows: Array<{ id: string }>) => rows.map((r) => r.id);
    assert.deepEqual(ids(await rowsDue(db, 'things', { state: 'new', note: null }, 'at', '2', 9)), ['d', 'b']);
    assert.deepEqual(ids(await rowsDue(db, 'things', { owner: 'o1' }, 'at', '1', 9)), ['c']);
    assert.deepEqual(ids(await rowsDue(db, 'things', {}, 'at', '2', 2)), ['d', 'c']);
    await close();
  });
});

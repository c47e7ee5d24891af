import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { inTransaction } from '../../src/lib/db/in-transaction.ts';
import { openDatabase } from '../../src/lib/db/open-database.ts';
import { freshPgDatabase, pgSkip } from '../support/pg.ts';
import { tapPgMessages } from '../support/pg-wire.ts';

interface DB {
  items: { id: string; n: number };
}

/** One connection (pool of 1) on a fresh database with a table, closed and dropped when the test ends. */
async function oneConnection(t: { after(fn: () => Promise<void>): void }, preparedStatements?: boolean) {
  const target = await freshPgDatabase();
  const handle = openDatabase<DB>(target.url, { poolSize: 1, preparedStatements });
  t.after(async () => {
    await handle.close();
    await target.drop();
  });
  await sql`create table items (id text primary key, n integer not null)`.execute(handle.db);
  await handle.db.insertInto('items').values({ id: 'a', n: 1 }).execute();
  return { db: handle.db, url: target.url };
}

/** The statements the pool's one connection keeps prepared, read on that same connection. */
async function kept(db: Kysely<DB>): Promise<string[]> {
  const r = await sql<{ statement: string }>`select statement from pg_prepared_statements`.execute(db);
  return r.rows.map((row) => row.statement);
}

/** Another instance's migration: a column added from a connection of its own. */
async function addColumn(url: string): Promise<void> {
  const other = new pg.Client({ connectionString: url });
  await other.connect();
  await other.query('alter table items add column note text');
  await other.end();
}

/** Counts the exchanges (ReadyForQuery) every `pg` connection of this process has while `fn` runs. */
async function roundTrips(fn: () => Promise<unknown>): Promise<number> {
  let n = 0;
  const stop = tapPgMessages((name) => void (name === 'readyForQuery' && n++));
  try {
    await fn();
  } finally {
    stop();
  }
  return n;
}

const readAll = (db: Kysely<DB>) => db.selectFrom('items').selectAll().where('id', '=', 'a').execute();

describe('PostgreSQL statements kept prepared per connection', async () => {
  const skip = await pgSkip();

  test('a statement with parameters is prepared once and then only run', { skip }, async (t) => {
    const { db } = await oneConnection(t);
    for (let i = 0; i < 3; i++) assert.deepEqual(await readAll(db), [{ id: 'a', n: 1 }]);
    const texts = (await kept(db)).filter((s) => s.includes('from "items"'));
    assert.equal(texts.length, 1, `one kept statement for the repeated read, got ${JSON.stringify(texts)}`);
  });

  test('turned off, nothing is kept', { skip }, async (t) => {
    const { db } = await oneConnection(t, false);
    await readAll(db);
    await readAll(db);
    assert.deepEqual(await kept(db), []);
  });

  test('a kept select * survives a column added by another connection, outside a transaction', { skip }, async (t) => {
    const { db, url } = await oneConnection(t);
    await readAll(db);
    await addColumn(url);
    assert.deepEqual(await readAll(db), [{ id: 'a', n: 1, note: null }]);
  });

  test('inside a unit of work, the transaction is run again after the plan went stale', { skip }, async (t) => {
    const { db, url } = await oneConnection(t);
    await readAll(db);
    await addColumn(url);
    let runs = 0;
    const rows = await inTransaction(db, async (trx) => {
      runs++;
      await trx
        .updateTable('items')
        .set({ n: sql`n + 1` })
        .where('id', '=', 'a')
        .execute();
      return trx.selectFrom('items').selectAll().where('id', '=', 'a').execute();
    });
    assert.equal(runs, 2, 'the first run failed on the stale plan and was rolled back, the second committed');
    assert.deepEqual(rows, [{ id: 'a', n: 2, note: null }], 'the update counted once');
  });

  test(
    'a unit of work sends its BEGIN with its first statement: one round trip fewer, the same transaction',
    { skip },
    async (t) => {
      const { db } = await oneConnection(t);
      const unit = (id: string, fail: boolean) =>
        inTransaction(db, async (trx) => {
          await trx.insertInto('items').values({ id, n: 1 }).execute();
          await trx.updateTable('items').set({ n: 2 }).where('id', '=', id).execute();
          if (fail) throw new Error('the unit fails after its statements');
        });
      await unit('warm', false); // each text parsed once on the connection
      assert.equal(await roundTrips(() => unit('b', false)), 3, 'BEGIN with the insert, the update, COMMIT');
      await assert.rejects(unit('c', true), /fails after/);
      const ids = (await db.selectFrom('items').select('id').execute()).map((r) => r.id).sort();
      assert.deepEqual(ids, ['a', 'b', 'warm'], 'the failed unit rolled back its first statement with the rest');
    },
  );

  test('turned off, BEGIN is a round trip of its own', { skip }, async (t) => {
    const { db } = await oneConnection(t, false);
    const unit = () =>
      inTransaction(db, (trx) => trx.updateTable('items').set({ n: 2 }).where('id', '=', 'a').execute());
    assert.equal(await roundTrips(unit), 3, 'BEGIN, the update, COMMIT');
  });

  test('a unit of work that runs no statement sends nothing', { skip }, async (t) => {
    const { db } = await oneConnection(t);
    assert.equal(await roundTrips(() => inTransaction(db, async () => 'nothing to write')), 0, 'no BEGIN, no COMMIT');
    await assert.rejects(
      roundTrips(() =>
        inTransaction(db, async () => {
          throw new Error('refused before any statement');
        }),
      ),
      /refused before/,
    );
    assert.deepEqual(await readAll(db), [{ id: 'a', n: 1 }], 'the connection still answers, outside a transaction');
  });

  test('a first statement that failed to parse is parsed again when it runs next', { skip }, async (t) => {
    const { db } = await oneConnection(t);
    const readLater = () =>
      inTransaction(db, (trx) => sql<{ id: string }>`select id from later where id = ${'x'}`.execute(trx));
    await assert.rejects(readLater(), /relation "later" does not exist/);
    await sql`create table later (id text primary key)`.execute(db);
    await sql`insert into later values ('x')`.execute(db);
    assert.deepEqual((await readLater()).rows, [{ id: 'x' }], 'parsed anew, not bound to a statement never made');
  });
});

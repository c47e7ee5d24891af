import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { sql, type Kysely } from 'kysely';
import { openDatabase } from './open-database.ts';
import { afterCommit, outboxWritten, unitOfWork } from './unit-of-work.ts';

interface Tables {
  notes: { id: string };
}

async function store(t: TestContext): Promise<Kysely<Tables>> {
  const dir = mkdtempSync(join(tmpdir(), 'tvpay-uow-'));
  const handle = openDatabase<Tables>(join(dir, 'store.db'), { poolSize: 1 });
  t.after(async () => {
    await handle.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await sql`CREATE TABLE notes (id TEXT PRIMARY KEY)`.execute(handle.db);
  return handle.db;
}

const count = async (db: Kysely<Tables>) =>
  Number(
    (
      await db
        .selectFrom('notes')
        .select((e) => e.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

describe('unit of work', () => {
  it('runs the hooks registered inside a transaction after it has committed, each once', async (t) => {
    const db = await store(t);
    const seen: number[] = [];
    let kicks = 0;
    const work = unitOfWork(db, () => kicks++);
    const hook = () => void count(db).then((n) => seen.push(n));
    await work.run(async (trx) => {
      await trx.insertInto('notes').values({ id: 'a' }).execute();
      afterCommit(trx, hook);
      afterCommit(trx, hook);
      outboxWritten(trx);
      outboxWritten(trx);
      assert.equal(kicks, 0, 'nothing runs before the commit');
    });
    assert.equal(kicks, 1, 'the outbox is woken once, however many messages the transaction wrote');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(seen, [1], 'the hook ran once, and saw the committed row');
  });

  it('runs no hook of a transaction that rolled back', async (t) => {
    const db = await store(t);
    let kicks = 0;
    const work = unitOfWork(db, () => kicks++);
    await assert.rejects(
      work.run(async (trx) => {
        await trx.insertInto('notes').values({ id: 'a' }).execute();
        outboxWritten(trx);
        throw new Error('refused');
      }),
      /refused/,
    );
    assert.equal(kicks, 0, 'a rolled-back transaction wakes nobody');
    assert.equal(await count(db), 0);
  });

  it('drops the hooks of an attempt that was retried, and runs those of the attempt that committed', async (t) => {
    const db = await store(t);
    const ran: string[] = [];
    const work = unitOfWork(db);
    let attempt = 0;
    await work.run(async (trx) => {
      const n = ++attempt;
      afterCommit(trx, () => ran.push(`attempt ${n}`));
      if (n === 1) throw Object.assign(new Error('database is busy'), { code: 'SQLITE_BUSY' });
    });
    assert.deepEqual(ran, ['attempt 2']);
  });

  it('refuses after-commit work outside a unit of work, where it would never run', async (t) => {
    const db = await store(t);
    await db.transaction().execute(async (trx) => {
      assert.throws(() => outboxWritten(trx), /outside a unit of work/);
    });
  });
});

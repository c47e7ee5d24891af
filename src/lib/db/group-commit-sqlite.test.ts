import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fdatasync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { Kysely } from 'kysely';
import { GroupCommitSqliteDialect } from './group-commit-sqlite.ts';
import { inTransaction } from './in-transaction.ts';
import { configureSqlite } from './open-database.ts';
import type { SyncFile } from './wal-sync.ts';

interface Db {
  items: { id: number; note: string };
}

const dir = mkdtempSync(join(tmpdir(), 'tvpay-group-commit-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

async function store(file = join(dir, `s${files++}.db`), syncFile?: SyncFile) {
  const commits: number[] = [];
  const db = new Kysely<Db>({
    dialect: new GroupCommitSqliteDialect(file, {
      configure: configureSqlite,
      onCommit: (units) => commits.push(units),
      syncFile,
    }),
  });
  await db.schema
    .createTable('items')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('note', 'text', (c) => c.notNull())
    .execute();
  commits.length = 0;
  /** What another process would see: a separate connection to the file. */
  const committedIds = () => {
    const other = new SqliteDatabase(file, { readonly: true });
    try {
      return (other.prepare('select id from items order by id').all() as Array<{ id: number }>).map((r) => r.id);
    } finally {
      other.close();
    }
  };
  return { db, commits, committedIds, file };
}

/**
 * The real fdatasync, except that from `hold()` on each sync waits until the test lets it run (and then fails with
 * `failWith`, if given).
 */
function heldSync(failWith?: Error) {
  const waiting: Array<() => void> = [];
  let holding = false;
  const syncFile: SyncFile = (fd, done) =>
    holding ? void waiting.push(() => (failWith ? done(failWith) : fdatasync(fd, done))) : fdatasync(fd, done);
  return { syncFile, waiting, hold: () => (holding = true), release: () => waiting.splice(0).forEach((run) => run()) };
}
/** Lets the event loop go round until `ready()` (the driver commits in a later turn). */
async function until(ready: () => boolean) {
  for (let turn = 0; !ready(); turn++) {
    assert.ok(turn < 1000, 'waited 1,000 turns of the event loop');
    await new Promise((r) => setImmediate(r));
  }
}
const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

describe('group commit on SQLite', () => {
  it('commits many concurrent transactions and single writes in a few durable commits, all acknowledged', async () => {
    const s = await store();
    await Promise.all(
      Array.from({ length: 100 }, (_, id) =>
        id % 2
          ? inTransaction(s.db, (trx) => trx.insertInto('items').values({ id, note: 'tx' }).execute())
          : s.db.insertInto('items').values({ id, note: 'single' }).execute(),
      ),
    );
    assert.deepEqual(
      s.committedIds(),
      Array.from({ length: 100 }, (_, i) => i),
    );
    assert.equal(
      s.commits.reduce((a, b) => a + b, 0),
      100,
      'every unit of work was in a commit',
    );
    assert.ok(s.commits.length <= 5, `100 writes issued together took ${s.commits.length} commits`);
    await s.db.destroy();
  });

  it('rolls back a failing transaction alone while the others in its batch commit', async () => {
    const s = await store();
    const results = await Promise.allSettled([
      inTransaction(s.db, (trx) => trx.insertInto('items').values({ id: 1, note: 'a' }).execute()),
      inTransaction(s.db, async (trx) => {
        await trx.insertInto('items').values({ id: 2, note: 'doomed' }).execute();
        throw new Error('changed my mind');
      }),
      inTransaction(s.db, (trx) => trx.insertInto('items').values({ id: 3, note: 'c' }).execute()),
      s.db.insertInto('items').values({ id: 1, note: 'duplicate key' }).execute(),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled', 'rejected'],
    );
    assert.deepEqual(s.committedIds(), [1, 3]);
    assert.equal(
      (await s.db.selectFrom('items').select('note').where('id', '=', 1).executeTakeFirstOrThrow()).note,
      'a',
    );
    await s.db.destroy();
  });

  it('never shows a read outside a transaction what is not yet committed', async () => {
    const s = await store();
    let seenInside: number[] = [];
    let seenOutside: number[] = [];
    await inTransaction(s.db, async (trx) => {
      await trx.insertInto('items').values({ id: 7, note: 'pending' }).execute();
      seenInside = (await trx.selectFrom('items').select('id').execute()).map((r) => r.id);
      seenOutside = (await s.db.selectFrom('items').select('id').execute()).map((r) => r.id);
    });
    assert.deepEqual(seenInside, [7], 'a transaction reads its own writes');
    assert.deepEqual(seenOutside, [], 'a read outside it does not');
    assert.deepEqual(
      (await s.db.selectFrom('items').select('id').execute()).map((r) => r.id),
      [7],
      'and does once it is acknowledged',
    );
    await s.db.destroy();
  });

  it('shows each acknowledged unit to the read right after it, many in flight, the WAL checkpointed', async () => {
    const s = await store();
    const pad = 'x'.repeat(3000); // 20 writers x 100 units x 3 KB: several automatic checkpoints of the WAL
    const stale: string[] = [];
    const writer = async (w: number) => {
      await s.db.insertInto('items').values({ id: w, note: '0' }).execute();
      for (let k = 1; k <= 100; k++) {
        await inTransaction(s.db, async (trx) => {
          await trx
            .updateTable('items')
            .set({ note: String(k) })
            .where('id', '=', w)
            .execute();
          await trx
            .insertInto('items')
            .values({ id: 1000 + w * 1000 + k, note: pad })
            .execute();
        });
        const row = await s.db.selectFrom('items').select('note').where('id', '=', w).executeTakeFirstOrThrow();
        if (row.note !== String(k)) stale.push(`writer ${w} wrote ${k} and read ${row.note}`);
      }
    };
    await Promise.all(Array.from({ length: 20 }, (_, w) => writer(w + 1)));
    assert.deepEqual(stale, [], 'the reader connection saw every acknowledged unit');
    await s.db.destroy();
  });

  it('settles a failed write once its batch committed: a read after it sees the row it collided with', async () => {
    const s = await store();
    const first = inTransaction(s.db, (trx) => trx.insertInto('items').values({ id: 5, note: 'winner' }).execute());
    const second = inTransaction(s.db, (trx) =>
      trx.insertInto('items').values({ id: 5, note: 'loser' }).execute(),
    ).catch(async (err: Error) => {
      const winner = await s.db.selectFrom('items').select('note').where('id', '=', 5).executeTakeFirst();
      return { err: err.message, winner: winner?.note };
    });
    const single = s.db
      .insertInto('items')
      .values({ id: 5, note: 'also loser' })
      .execute()
      .catch(async () => (await s.db.selectFrom('items').select('note').where('id', '=', 5).executeTakeFirst())?.note);
    await first;
    assert.deepEqual(await second, { err: 'UNIQUE constraint failed: items.id', winner: 'winner' });
    assert.equal(await single, 'winner');
    await s.db.destroy();
  });

  it('in memory, makes a read wait for the open batch to commit', async () => {
    const s = await store(':memory:');
    const write = s.db.insertInto('items').values({ id: 1, note: 'x' }).execute();
    const read = s.db.selectFrom('items').select('id').execute();
    assert.deepEqual(
      (await read).map((r) => r.id),
      [1],
    );
    await write;
    await s.db.destroy();
  });

  it('lets the event loop read requests between units once the writer was busy; units keep their order', async () => {
    const s = await store();
    const busy = (ms: number) => {
      const until = performance.now() + ms;
      while (performance.now() < until);
    };
    const started: number[] = [];
    let startedWhenIoRan = -1;
    await Promise.all(
      Array.from({ length: 40 }, (_, id) =>
        inTransaction(s.db, async (trx) => {
          // What arrives while the queue runs: a socket's data is read in the poll phase, an immediate just after it.
          if (id === 0) setImmediate(() => (startedWhenIoRan = started.length));
          started.push(id);
          busy(1);
          await trx.insertInto('items').values({ id, note: 'queued' }).execute();
        }),
      ),
    );
    assert.ok(
      startedWhenIoRan >= 1 && startedWhenIoRan < 40,
      `the other work ran after ${startedWhenIoRan} of the 40 queued units, not in between`,
    );
    assert.deepEqual(
      started,
      Array.from({ length: 40 }, (_, i) => i),
      'units took the writer in the order they asked for it',
    );
    assert.deepEqual(
      s.committedIds(),
      Array.from({ length: 40 }, (_, i) => i),
    );
    await s.db.destroy();
  });

  it('acknowledges a batch once its WAL sync returned, holding reads outside a transaction till then', async () => {
    const held = heldSync();
    const s = await store(undefined, held.syncFile);
    held.hold();
    let acknowledged = false;
    const write = s.db
      .insertInto('items')
      .values({ id: 1, note: 'x' })
      .execute()
      .then(() => (acknowledged = true));
    await until(() => held.waiting.length === 1);
    assert.deepEqual(s.committedIds(), [1], 'the batch is committed in the file, its sync not yet done');
    let read: number[] | undefined;
    const reading = s.db
      .selectFrom('items')
      .select('id')
      .execute()
      .then((rows) => (read = rows.map((r) => r.id)));
    await turns(20);
    assert.equal(acknowledged, false, 'the write was acknowledged before its sync');
    assert.equal(read, undefined, 'a read saw a batch whose sync was under way');
    held.release();
    await Promise.all([write, reading]);
    assert.deepEqual(read, [1]);
    assert.deepEqual(s.commits, [1]);
    await s.db.destroy();
  });

  it('gathers the units that arrive during a sync into the next batch, committed once that sync is done', async () => {
    const held = heldSync();
    const s = await store(undefined, held.syncFile);
    held.hold();
    const first = s.db.insertInto('items').values({ id: 1, note: 'first' }).execute();
    await until(() => held.waiting.length === 1);
    const next = Array.from({ length: 5 }, (_, i) =>
      inTransaction(s.db, (trx) =>
        trx
          .insertInto('items')
          .values({ id: 10 + i, note: 'next' })
          .execute(),
      ),
    );
    await turns(20);
    assert.deepEqual(s.committedIds(), [1], 'a second COMMIT ran while the first sync was under way');
    held.release();
    await first;
    await until(() => held.waiting.length === 1);
    held.release();
    await Promise.all(next);
    assert.deepEqual(s.commits, [1, 5]);
    assert.deepEqual(s.committedIds(), [1, 10, 11, 12, 13, 14]);
    await s.db.destroy();
  });

  it('fails the batch whose WAL sync failed, the batch behind it, and every write and read after', async () => {
    const held = heldSync(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    const s = await store(undefined, held.syncFile);
    held.hold();
    const first = s.db.insertInto('items').values({ id: 1, note: 'lost?' }).execute();
    await until(() => held.waiting.length === 1);
    const behind = inTransaction(s.db, (trx) => trx.insertInto('items').values({ id: 2, note: 'behind' }).execute());
    await turns(5);
    held.release();
    const durable = /could not make its commits durable \(EIO: i\/o error, fdatasync\): restart the service/;
    const [a, b] = await Promise.allSettled([first, behind]);
    assert.match(a.status === 'rejected' ? String(a.reason) : 'acknowledged', durable);
    assert.match(b.status === 'rejected' ? String(b.reason) : 'acknowledged', durable);
    await assert.rejects(s.db.insertInto('items').values({ id: 3, note: 'later' }).execute(), durable);
    await assert.rejects(
      inTransaction(s.db, (trx) => trx.insertInto('items').values({ id: 4, note: 'later' }).execute()),
      durable,
    );
    await assert.rejects(s.db.selectFrom('items').select('id').execute(), durable);
    assert.deepEqual(s.commits, [], 'no commit was reported durable');
    assert.deepEqual(
      s.committedIds(),
      [1],
      'only the batch whose sync failed reached the file; the one behind it was rolled back',
    );
    await s.db.destroy();
  });

  it('keeps every acknowledged write when the process is killed (SIGKILL) in the middle of writing', async () => {
    const file = join(dir, 'killed.db');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', resolve(import.meta.dirname, '../../../test/support/acknowledging-writer.ts'), file],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const acknowledged: number[] = [];
    let buffered = '';
    const exited = new Promise((r) => child.once('exit', r));
    await new Promise<void>((done) => {
      child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        for (const line of lines) if (/^\d+$/.test(line)) acknowledged.push(Number(line));
        if (acknowledged.length >= 2000) done();
      });
      child.once('exit', () => done());
    });
    child.kill('SIGKILL');
    await exited;
    assert.ok(acknowledged.length >= 2000, `the writer acknowledged only ${acknowledged.length} writes`);
    const db = new SqliteDatabase(file);
    const stored = new Set((db.prepare('select id from acks').all() as Array<{ id: number }>).map((r) => r.id));
    db.close();
    const lost = acknowledged.filter((id) => !stored.has(id));
    assert.deepEqual(lost, [], 'acknowledged writes missing after the kill');
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Kysely } from 'kysely';
import { ManualClock } from '../clock.ts';
import type { CommonTables } from '../db/common-tables.ts';
import {
  commonTablesMigration,
  outboxCorrelationMigration,
  outboxTopicMigration,
} from '../db/migrations/common-tables.ts';
import { migrate } from '../db/migrate.ts';
import { openDatabase } from '../db/open-database.ts';
import { createLogger } from '../log.ts';
import { enqueue, handler as handlerOf, markDoneSoon, PermanentFailure, topic } from './outbox.ts';

const T = topic<any>('t');
import { PeerError } from '../http/service-auth.ts';
import { OutboxWorker, type OutboxWorkerOptions } from './outbox-worker.ts';
import { inTransaction } from '../db/in-transaction.ts';
import { eventually } from '../../../test/support/eventually.ts';

/** A store in memory with the outbox's tables, and a manual clock for its worker. */
async function outboxStore() {
  const store = openDatabase<CommonTables>(':memory:');
  await migrate(store.db as Kysely<any>, {
    '0001': commonTablesMigration,
    '0002': outboxCorrelationMigration,
    '0003': outboxTopicMigration,
  });
  return { store, clock: new ManualClock() };
}

/** A started worker over `db` that records the `n` of each payload of `topics` it delivers into `seen`. */
function recorder(
  db: Kysely<CommonTables>,
  clock: ManualClock,
  seen: string[],
  options: OutboxWorkerOptions,
  topics = [T],
): OutboxWorker {
  const worker = new OutboxWorker(db, clock, createLogger('silent'), options);
  worker.start(topics.map((t) => handlerOf(t, async (p: { n: string }) => void seen.push(p.n))));
  return worker;
}

/**
 * `db` with a count of the statements run on it that mark messages done (they alone set done_at): a statement is
 * known by its query id, which a prepared statement keeps for every run (building one again, as the prepared
 * statement's check does, runs nothing).
 */
function countingDoneMarks(db: Kysely<CommonTables>) {
  let n = 0;
  const doneMarks = new Set<unknown>();
  const counted = db.withPlugin({
    transformQuery: ({ node, queryId }) => {
      const sets = node.kind === 'UpdateQueryNode' ? (node.updates ?? []) : [];
      if (sets.some((u) => (u.column as { column?: { name?: string } }).column?.name === 'done_at'))
        doneMarks.add(queryId);
      return node;
    },
    transformResult: async ({ result, queryId }) => {
      if (doneMarks.has(queryId)) n++;
      return result;
    },
  });
  return { counted, doneStatements: () => n };
}

async function kit(handler: (p: any) => Promise<void>, options: OutboxWorkerOptions = {}) {
  const { store, clock } = await outboxStore();
  const worker = new OutboxWorker(store.db, clock, createLogger('silent'), options);
  worker.start([handlerOf(T, handler)]);
  const row = (id: string) => store.db.selectFrom('outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  return {
    db: store.db,
    clock,
    worker,
    row,
    close: async () => {
      await worker.stop();
      await store.close();
    },
  };
}

describe('outbox worker', () => {
  it('delivers a message once its transaction committed, and only once', async () => {
    const seen: unknown[] = [];
    const k = await kit(async (p) => void seen.push(p));
    await enqueue(k.db, { id: 'm1', topic: T, payload: { n: 1 }, now: k.clock.now() });
    await k.worker.drain();
    await k.worker.drain();
    assert.deepEqual(seen, [{ n: 1 }]);
    assert.equal((await k.row('m1')).status, 'done');
    await k.close();
  });

  it('retries a failing delivery with growing backoff until it succeeds', async () => {
    let calls = 0;
    const k = await kit(async () => {
      calls++;
      if (calls < 3) throw new Error('peer down');
    });
    await enqueue(k.db, { id: 'm1', topic: T, payload: {}, now: k.clock.now() });
    await k.worker.drain();
    const first = await k.row('m1');
    assert.equal(first.status, 'pending');
    assert.equal(first.attempts, 1);
    await k.worker.drain();
    assert.equal(calls, 1, 'nothing is retried before its backoff ends');
    k.clock.advance(10_000);
    await k.worker.drain();
    const second = await k.row('m1');
    assert.equal(second.attempts, 2);
    const gap1 = Date.parse(first.next_attempt_at) - Date.parse('2026-01-01T00:00:00Z');
    const gap2 = Date.parse(second.next_attempt_at) - (Date.parse('2026-01-01T00:00:00Z') + 10_000);
    assert.ok(gap2 > gap1, 'the backoff grows');
    k.clock.advance(10_000);
    await k.worker.drain();
    assert.equal((await k.row('m1')).status, 'done');
    assert.equal(calls, 3);
    await k.close();
  });

  it('gives a message that failed as often as the cap allows up as a dead letter, never sent again', async () => {
    let calls = 0;
    const given: unknown[] = [];
    const k = await kit(
      async () => {
        calls++;
        throw new Error('peer down');
      },
      { maxAttempts: 3, count: (e) => void given.push(e) },
    );
    await enqueue(k.db, { id: 'm1', topic: T, payload: {}, now: k.clock.now() });
    for (let i = 0; i < 6; i++) {
      await k.worker.drain();
      k.clock.advance(120_000);
    }
    const row = await k.row('m1');
    assert.equal(calls, 3, 'delivered 3 times, then never again');
    assert.equal(row.status, 'dead_letter');
    assert.equal(row.attempts, 3);
    assert.equal(row.last_error, 'peer down');
    assert.deepEqual(given, [{ event: 'outbox_given_up', topic: 't' }], 'counted once, when it was given up');
    await k.close();
  });

  it('delivers a message its committed transaction handed over, with no claim, none of a rolled-back one', async () => {
    const seen: unknown[] = [];
    // A worker that never polls: only the hand-over can deliver here.
    const k = await kit(async (p) => void seen.push(p), { pollMs: 3_600_000 });
    await k.worker.drain();
    await inTransaction(k.db, (trx) => enqueue(trx, { id: 'm1', topic: T, payload: { n: 1 }, now: k.clock.now() }));
    await eventually(async () => assert.equal((await k.row('m1')).status, 'done'));
    assert.deepEqual(seen, [{ n: 1 }]);
    await assert.rejects(
      inTransaction(k.db, async (trx) => {
        await enqueue(trx, { id: 'm2', topic: T, payload: { n: 2 }, now: k.clock.now() });
        throw new Error('the change failed');
      }),
      /the change failed/,
    );
    await k.worker.drain();
    assert.deepEqual(seen, [{ n: 1 }], 'nothing of the rolled-back transaction was delivered');
    const left = await k.db.selectFrom('outbox').select('id').where('id', '=', 'm2').execute();
    assert.deepEqual(left, []);
    await k.close();
  });

  it('gives up on a message whose handler says it can never succeed', async () => {
    const k = await kit(async () => {
      throw new PermanentFailure('no such thing');
    });
    await enqueue(k.db, { id: 'm1', topic: T, payload: {}, now: k.clock.now() });
    await k.worker.drain();
    assert.equal((await k.row('m1')).status, 'dead');
    await k.close();
  });

  it('gives up on a message its peer refused with a 4xx, but retries a 429 or a 5xx', async () => {
    for (const [status, expected] of [
      [422, 'dead'],
      [401, 'dead'],
      [429, 'pending'],
      [503, 'pending'],
    ] as const) {
      const k = await kit(async () => {
        throw new PeerError(status, { code: 'X' });
      });
      await enqueue(k.db, { id: 'm1', topic: T, payload: {}, now: k.clock.now() });
      await k.worker.drain();
      assert.equal((await k.row('m1')).status, expected, `after a ${status}`);
      await k.close();
    }
  });
  it("delivers its own topics oldest first, past a backlog of another lane's topic that it leaves alone", async () => {
    const { store, clock } = await outboxStore();
    const seen: string[] = [];
    const lanes = ['a', 'b', 'lane'].map((name) => topic<any>(name));
    const worker = recorder(store.db, clock, seen, { batch: 1, pollMs: 60_000, topics: { except: ['lane'] } }, lanes);
    for (let i = 0; i < 300; i++)
      await enqueue(store.db, {
        id: `lane${i}`,
        topic: topic<any>('lane'),
        payload: { n: `lane${i}` },
        now: clock.now(),
      });
    for (const [id, t] of [
      ['a1', 'a'],
      ['b1', 'b'],
      ['a2', 'a'],
      ['b2', 'b'],
    ] as const) {
      clock.advance(1000);
      await enqueue(store.db, { id, topic: topic<any>(t), payload: { n: id }, now: clock.now() });
    }
    await worker.drain();
    assert.deepEqual(seen, ['a1', 'b1', 'a2', 'b2']);
    const lane = await store.db
      .selectFrom('outbox')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('topic', '=', 'lane')
      .where('status', '=', 'pending')
      .where('locked_until', 'is', null)
      .executeTakeFirstOrThrow();
    assert.equal(Number(lane.n), 300, "the other lane's messages are neither delivered nor leased");
    await worker.stop();
    await store.close();
  });

  it('finds, in its periodic sweep, a message of a topic no handler knows, and gives it up', async () => {
    const { store, clock } = await outboxStore();
    const worker = new OutboxWorker(store.db, clock, createLogger('silent'), {
      pollMs: 20,
      topics: { except: ['lane'] },
    });
    worker.start([handlerOf(T, async () => {})]);
    await worker.drain();
    await enqueue(store.db, { id: 'orphan', topic: topic<any>('renamed.long.ago'), payload: {}, now: clock.now() });
    await eventually(async () =>
      assert.equal(
        (await store.db.selectFrom('outbox').select('status').where('id', '=', 'orphan').executeTakeFirstOrThrow())
          .status,
        'dead',
      ),
    );
    await worker.stop();
    await store.close();
  });
  it('marks the messages delivered in one tick done in one statement, none claimed again meanwhile', async () => {
    const { store, clock } = await outboxStore();
    const { counted, doneStatements } = countingDoneMarks(store.db);
    const seen: string[] = [];
    const worker = recorder(counted, clock, seen, { doneTickMs: 300, pollMs: 3_600_000 });
    const otherSeen: string[] = [];
    const other = recorder(store.db, clock, otherSeen, { pollMs: 3_600_000 });
    for (const n of ['a', 'b', 'c']) await enqueue(counted, { id: n, topic: T, payload: { n }, now: clock.now() });
    worker.kick();
    await eventually(() => assert.equal(seen.length, 3, 'all three delivered'));
    const row = (id: string) =>
      store.db.selectFrom('outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    assert.equal((await row('a')).status, 'pending', 'not marked before the tick');
    assert.ok((await row('a')).locked_until, 'still leased to the worker that delivered it');
    await other.drain();
    assert.deepEqual(otherSeen, [], 'a message whose done mark waits is not claimed again while its lease holds');
    await eventually(async () => assert.equal((await row('c')).status, 'done'));
    for (const id of ['a', 'b', 'c']) {
      const r = await row(id);
      assert.equal(r.status, 'done');
      assert.equal(r.attempts, 1);
      assert.equal(r.locked_until, null);
    }
    assert.equal(doneStatements(), 1, 'one statement marked the three done');
    await Promise.all([worker.stop(), other.stop()]);
    await store.close();
  });

  it('marks inline deliveries of one tick done in one statement, and not one a worker holds', async () => {
    const { store, clock } = await outboxStore();
    const { counted, doneStatements } = countingDoneMarks(store.db);
    for (const id of ['a', 'b', 'c'])
      await enqueue(store.db, { id, topic: T, payload: {}, now: clock.now(), delayMs: 60_000 });
    const leased = new Date(clock.now().getTime() + 60_000).toISOString();
    await store.db.updateTable('outbox').set({ locked_until: leased }).where('id', '=', 'c').execute();
    await Promise.all(['a', 'b', 'c'].map((id) => markDoneSoon(counted, id, clock.now())));
    assert.equal(doneStatements(), 1, 'one statement marked the three');
    const rows = await store.db.selectFrom('outbox').select(['id', 'status']).orderBy('id').execute();
    assert.deepEqual(
      rows.map((r) => [r.id, r.status]),
      [
        ['a', 'done'],
        ['b', 'done'],
        ['c', 'pending'],
      ],
      'the one a worker leased meanwhile is left to it',
    );
    await store.close();
  });

  it('delivers a message again once its lease expires when its done mark never landed (a crash)', async () => {
    const { store, clock } = await outboxStore();
    const seen: string[] = [];
    // A tick that does not come within the test: as if the process died before it.
    const dying = recorder(store.db, clock, seen, { doneTickMs: 60_000, leaseMs: 3_600_000, pollMs: 3_600_000 });
    await enqueue(store.db, { id: 'm1', topic: T, payload: { n: 'm1' }, now: clock.now() });
    dying.kick();
    await eventually(() => assert.deepEqual(seen, ['m1']));
    const next = recorder(store.db, clock, seen, { pollMs: 3_600_000 });
    await next.drain();
    assert.deepEqual(seen, ['m1'], 'not again while the lease holds');
    clock.advance(3_600_001);
    await next.drain();
    assert.deepEqual(seen, ['m1', 'm1'], 'delivered again once the lease expired');
    const row = await store.db.selectFrom('outbox').selectAll().where('id', '=', 'm1').executeTakeFirstOrThrow();
    assert.equal(row.status, 'done');
    assert.equal(row.attempts, 1);
    await dying.stop();
    const after = await store.db.selectFrom('outbox').selectAll().where('id', '=', 'm1').executeTakeFirstOrThrow();
    assert.equal(after.attempts, 1, 'the late mark leaves a message another worker finished as it ended');
    await next.stop();
    await store.close();
  });
});

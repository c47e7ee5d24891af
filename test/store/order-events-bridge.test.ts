import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BackendTables } from '../../src/backend/schema.ts';
import { backendMigrations } from '../../src/backend/migrations/index.ts';
import { OrderEvents, type OrderNews } from '../../src/backend/core/order-events.ts';
import { PgOrderEvents } from '../../src/backend/orders/pg-order-events.ts';
import { OrderReadCache } from '../../src/backend/orders/order-read-cache.ts';
import { moveOrder, type OrderRow } from '../../src/backend/orders/order-store.ts';
import { insertTvOrder } from './rows.ts';
import { sql } from 'kysely';
import { createLogger } from '../../src/lib/log.ts';
import { eventually } from '../support/eventually.ts';
import { freshStore } from './dialects.ts';
import { pgSkip } from '../support/pg.ts';

const skip = await pgSkip();

/**
 * Two back-end instances' order events (A and B) bridged over one fresh PostgreSQL store, stopped and dropped
 * when the test ends; `beforeStart` sets B up before the bridges listen.
 */
async function twoInstances(t: { after(fn: () => Promise<void>): void }, beforeStart?: (b: OrderEvents) => void) {
  const store = await freshStore<BackendTables>('postgres', backendMigrations);
  const log = createLogger('silent');
  const a = new OrderEvents();
  const b = new OrderEvents();
  beforeStart?.(b);
  const bridgeA = new PgOrderEvents(store.url, store.db, a, log);
  const bridgeB = new PgOrderEvents(store.url, store.db, b, log);
  await bridgeA.start();
  await bridgeB.start();
  t.after(async () => {
    await bridgeA.stop();
    await bridgeB.stop();
    await store.dispose();
  });
  return { store, a, b };
}

describe('order events across back-end instances (PostgreSQL LISTEN/NOTIFY)', { skip }, () => {
  it('wakes the streams of another instance when an order changes on this one', async (t) => {
    const { a, b } = await twoInstances(t);
    const woken: string[] = [];
    const off = b.subscribe('ord_42', () => woken.push('ord_42'));
    b.subscribe('ord_other', () => woken.push('ord_other'));
    a.publish('ord_42');
    await eventually(() => assert.deepEqual(woken, ['ord_42']), 5000);
    off();
  });

  it("announces a change made through the timeline in the change's own statement, with its version, and once", async (t) => {
    const { store, a, b } = await twoInstances(t);
    const heard: OrderNews[] = [];
    b.subscribe('ord_1', (news) => heard.push(news));
    const at = '2026-01-01T00:00:00.000Z';
    await insertTvOrder(store.db, at);
    const moved = await store.db
      .transaction()
      .execute((trx) => moveOrder(trx, 'ord_1', 'cancelled', new Date(at), { failure_code: 'REPLACED' }));
    assert.equal(moved?.version, 1, 'the move raised the version');
    await eventually(() => assert.deepEqual(heard, [{ version: 1 }]), 5000);
    a.publish('ord_1', moved);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(heard, [{ version: 1 }], 'publishing the row sends no second NOTIFY');
  });

  it("wakes this instance's streams for its own change after the row it publishes, so a stream sent the row reads nothing", async (t) => {
    const store = await freshStore<BackendTables>('postgres', backendMigrations);
    const a = new OrderEvents();
    // A settle long enough for this test's pause on a loaded machine (50 ms in service).
    const bridge = new PgOrderEvents(store.url, store.db, a, createLogger('silent'), 2000);
    await bridge.start();
    t.after(async () => {
      await bridge.stop();
      await store.dispose();
    });
    const heard: string[] = [];
    a.subscribe('ord_1', (news) => heard.push(news.row ? `row ${news.row.version}` : `version ${news.version}`));
    const at = '2026-01-01T00:00:00.000Z';
    await insertTvOrder(store.db, at);
    const moved = await store.db
      .transaction()
      .execute((trx) => moveOrder(trx, 'ord_1', 'cancelled', new Date(at), { failure_code: 'REPLACED' }));
    // The writer publishes its committed row a moment after the commit that delivers the NOTIFY.
    await new Promise((r) => setTimeout(r, 200));
    a.publish('ord_1', moved);
    await eventually(() => assert.deepEqual(heard, ['row 1', 'version 1'], 'the row first, then its NOTIFY'), 5000);
  });

  it('has another instance drop its kept order when it changes here, and keep nothing while it cannot hear', async (t) => {
    const kept = new OrderReadCache({ maxEntries: 10, maxAgeMs: 60_000 });
    const hearing: boolean[] = [];
    const { store, a } = await twoInstances(t, (b) => {
      b.watch(kept);
      b.watch({ changed: () => {}, setHearing: (h) => void hearing.push(h) });
    });
    const order = { id: 'ord_42', status: 'created' } as unknown as OrderRow;
    await kept.read('ord_42', async () => order);
    assert.equal(kept.size, 1);
    a.publish('ord_42');
    await eventually(() => assert.equal(kept.size, 0, 'dropped on the NOTIFY'), 5000);

    await kept.read('ord_42', async () => order);
    assert.equal(kept.size, 1);
    // The LISTEN connection of B is cut: B may miss changes from now on, so it keeps nothing.
    await sql`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and query like 'LISTEN%'`.execute(
      store.db,
    );
    await eventually(() => assert.equal(hearing.at(-1), false), 5000);
    assert.equal(kept.size, 0);
    await eventually(() => assert.equal(hearing.at(-1), true, 'it hears again once LISTEN holds again'), 10_000);
  });
});

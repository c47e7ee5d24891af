import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backendMigrations, type BackendTables } from '../../src/backend/schema.ts';
import { OrderEvents } from '../../src/backend/orders/order-events.ts';
import { PgOrderEvents } from '../../src/backend/orders/pg-order-events.ts';
import { createLogger } from '../../src/lib/log.ts';
import { eventually } from '../support/eventually.ts';
import { freshStore } from './dialects.ts';
import { pgSkip } from '../support/pg.ts';

const skip = await pgSkip();

describe('order events across back-end instances (PostgreSQL LISTEN/NOTIFY)', { skip }, () => {
  it('wakes the streams of another instance when an order changes on this one', async () => {
    const store = await freshStore<BackendTables>('postgres', backendMigrations);
    const log = createLogger('silent');
    const a = new OrderEvents();
    const b = new OrderEvents();
    const bridgeA = new PgOrderEvents(store.url, store.db, a, log);
    const bridgeB = new PgOrderEvents(store.url, store.db, b, log);
    await bridgeA.start();
    await bridgeB.start();
    const woken: string[] = [];
    const off = b.subscribe('ord_42', () => woken.push('ord_42'));
    b.subscribe('ord_other', () => woken.push('ord_other'));
    a.publish('ord_42');
    await eventually(() => assert.deepEqual(woken, ['ord_42']), 5000);
    off();
    await bridgeA.stop();
    await bridgeB.stop();
    await store.dispose();
  });
});

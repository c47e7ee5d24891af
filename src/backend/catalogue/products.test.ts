import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../lib/clock.ts';
import { migrate } from '../../lib/db/migrate.ts';
import { openDatabase } from '../../lib/db/open-database.ts';
import { backendMigrations } from '../migrations/index.ts';
import type { BackendTables } from '../schema.ts';
import { ProductsService } from './products.ts';

const monthly = { title: 'VIP', amountMinor: 3000, currency: 'CNY', service: 'vip', durationDays: 30 };

async function kit() {
  const store = openDatabase<BackendTables>(':memory:');
  await migrate(store.db, backendMigrations);
  const clock = new ManualClock();
  const products = new ProductsService(store.db, clock);
  /** A product written behind this service's back, as another back-end instance on the same store would. */
  const putElsewhere = (id: string) =>
    store.db
      .insertInto('products')
      .values({
        id,
        title: id,
        description: '',
        localized: null,
        amount_minor: 100,
        currency: 'CNY',
        service: id,
        duration_days: 30,
        updated_at: clock.now().toISOString(),
        retired_at: null,
        renews: 0,
      })
      .execute();
  const ids = async () => (await products.list()).map((p) => p.productId);
  return { store, clock, products, putElsewhere, ids };
}

describe("the TVs' catalogue, served as last read for five seconds", () => {
  it('shows a change made through this instance at once, and one made elsewhere five seconds later', async () => {
    const k = await kit();
    await k.products.put('vip', monthly);
    assert.deepEqual(await k.ids(), ['vip']);
    await k.putElsewhere('kids');
    assert.deepEqual(await k.ids(), ['vip'], 'the change made elsewhere is not read yet');
    k.clock.advance(4_999);
    assert.deepEqual(await k.ids(), ['vip']);
    k.clock.advance(1);
    assert.deepEqual(await k.ids(), ['kids', 'vip'], 'read again after five seconds');
    await k.products.retire('kids');
    assert.deepEqual(await k.ids(), ['vip'], 'a retirement made here is seen at once');
    await k.products.put('sports', { ...monthly, service: 'sports', amountMinor: 5000 });
    assert.deepEqual(await k.ids(), ['vip', 'sports'], 'a product put here is seen at once');
    await k.store.close();
  });
});

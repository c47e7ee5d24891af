import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OrderReadCache } from './order-read-cache.ts';
import type { OrderRow } from './order-store.ts';

const row = (id: string, status: string) => ({ id, status }) as unknown as OrderRow;
const versioned = (id: string, status: string, version: number) => ({ id, status, version }) as unknown as OrderRow;

/** A store that counts its reads and answers what `current` holds, when `release` lets it. */
function store(initial: string) {
  let current = initial;
  let reads = 0;
  let gate: Promise<void> = Promise.resolve();
  let open = () => {};
  return {
    set: (status: string) => void (current = status),
    get reads() {
      return reads;
    },
    hold() {
      gate = new Promise((r) => (open = r));
    },
    release: () => open(),
    load: (id: string) => async () => {
      reads++;
      const status = current; // what the read saw when it ran
      await gate;
      return row(id, status);
    },
  };
}

/** A cache of at most `maxEntries` over a counting store, its entries aged by a clock the test moves. */
function agingCache(maxEntries: number) {
  const clock = { now: 0 };
  const s = store('created');
  const cache = new OrderReadCache({ maxEntries, maxAgeMs: 1000, now: () => clock.now });
  return { clock, s, cache, read: (id: string) => cache.read(id, s.load(id)) };
}

describe('the kept orders of the status read', () => {
  it('answers a kept order without reading it again until it changes, then reads the change', async () => {
    const s = store('created');
    const cache = new OrderReadCache({ maxEntries: 10, maxAgeMs: 60_000 });
    for (let i = 0; i < 5; i++) assert.equal((await cache.read('o1', s.load('o1')))!.status, 'created');
    assert.equal(s.reads, 1);
    s.set('cancelled');
    cache.changed('o1');
    assert.equal((await cache.read('o1', s.load('o1')))!.status, 'cancelled');
    assert.equal(s.reads, 2);
  });

  it('does not keep what a read saw when the order changed while it was under way', async () => {
    const s = store('created');
    const cache = new OrderReadCache({ maxEntries: 10, maxAgeMs: 60_000 });
    s.hold();
    const early = cache.read('o1', s.load('o1'));
    s.set('cancelled');
    cache.changed('o1'); // announced after the commit, while the early read is still out
    const late = cache.read('o1', s.load('o1'));
    s.release();
    assert.equal((await early)!.status, 'created', 'the early read answers what it saw');
    assert.equal((await late)!.status, 'cancelled', 'a read begun after the change does not join the early one');
    assert.equal((await cache.read('o1', s.load('o1')))!.status, 'cancelled', 'what is kept is the change');
  });

  it('shares one store read among reads of one order at one moment', async () => {
    const s = store('created');
    const cache = new OrderReadCache({ maxEntries: 10, maxAgeMs: 60_000 });
    s.hold();
    const reads = Array.from({ length: 20 }, () => cache.read('o1', s.load('o1')));
    s.release();
    for (const r of await Promise.all(reads)) assert.equal(r!.status, 'created');
    assert.equal(s.reads, 1);
  });

  it('keeps nothing while changes cannot be heard, and starts afresh when they can again', async () => {
    const s = store('created');
    const cache = new OrderReadCache({ maxEntries: 10, maxAgeMs: 60_000 });
    await cache.read('o1', s.load('o1'));
    cache.setHearing(false);
    assert.equal(cache.size, 0);
    await cache.read('o1', s.load('o1'));
    await cache.read('o1', s.load('o1'));
    assert.equal(s.reads, 3, 'every read goes to the store while deaf');
    cache.setHearing(true);
    await cache.read('o1', s.load('o1'));
    await cache.read('o1', s.load('o1'));
    assert.equal(s.reads, 4);
  });

  it('reads a kept order again after maxAgeMs, and keeps at most maxEntries orders', async () => {
    const { clock, s, cache, read } = agingCache(2);
    await read('o1');
    clock.now = 999;
    await read('o1');
    assert.equal(s.reads, 1);
    clock.now = 1000;
    await read('o1');
    assert.equal(s.reads, 2, 'an unannounced change costs at most maxAgeMs');
    await read('o2');
    await read('o3');
    assert.equal(cache.size, 2);
  });

  it('hands over at once only what read would answer without the store: unchanged, heard, fresh', async () => {
    const { clock, s, cache, read } = agingCache(10);
    assert.equal(cache.kept('o1'), undefined, 'nothing before the first read');
    await read('o1');
    assert.equal(cache.kept('o1')!.status, 'created');
    cache.changed('o1');
    assert.equal(cache.kept('o1'), undefined, 'a change drops it');
    await read('o1');
    clock.now = 1000;
    assert.equal(cache.kept('o1'), undefined, 'past maxAgeMs');
    await read('o1');
    cache.setHearing(false);
    assert.equal(cache.kept('o1'), undefined, 'nothing while deaf');
    assert.equal(s.reads, 3);
  });

  it('keeps the row a change announces, so the next read needs no store read', async () => {
    const s = store('created');
    const cache = new OrderReadCache({ maxEntries: 10, maxAgeMs: 60_000 });
    cache.changed('o1', { row: versioned('o1', 'awaiting_payment', 1) });
    assert.equal((await cache.read('o1', s.load('o1')))!.status, 'awaiting_payment');
    assert.equal(s.reads, 0, 'the announced row answered the read');
  });

  it('never keeps an older row of an order after a newer one, whatever order they arrive in', async () => {
    const cache = new OrderReadCache({ maxEntries: 10, maxAgeMs: 60_000 });
    cache.changed('o1', { row: versioned('o1', 'paid', 2) });
    cache.changed('o1', { row: versioned('o1', 'awaiting_payment', 1) });
    assert.equal(cache.kept('o1')!.status, 'paid', 'the late announcement of version 1 is ignored');
    const late = await cache.read('o1', async () => versioned('o1', 'awaiting_payment', 1));
    assert.equal(late!.status, 'paid', 'the kept newer row answers');
  });

  it('drops an older row on a version announced from elsewhere, and refuses a read older than it', async () => {
    const cache = new OrderReadCache({ maxEntries: 10, maxAgeMs: 60_000 });
    cache.changed('o1', { row: versioned('o1', 'awaiting_payment', 1) });
    cache.changed('o1', { version: 1 });
    assert.equal(cache.kept('o1')!.status, 'awaiting_payment', 'its own version heard again changes nothing');
    cache.changed('o1', { version: 3 });
    assert.equal(cache.kept('o1'), undefined, 'an older row is dropped');
    await cache.read('o1', async () => versioned('o1', 'paid', 2));
    assert.equal(cache.kept('o1'), undefined, 'a row older than the announced version is not kept');
    await cache.read('o1', async () => versioned('o1', 'fulfilled', 3));
    assert.equal(cache.kept('o1')!.status, 'fulfilled', 'the announced version is kept once read');
  });

  it("drops a kept row older than what a stream's own read saw", () => {
    const cache = new OrderReadCache({ maxEntries: 10, maxAgeMs: 60_000 });
    cache.changed('o1', { row: versioned('o1', 'awaiting_payment', 1) });
    cache.saw(versioned('o1', 'awaiting_payment', 1));
    assert.equal(cache.kept('o1')!.status, 'awaiting_payment', 'the same version is kept');
    cache.saw(versioned('o1', 'paid', 2));
    assert.equal(cache.kept('o1'), undefined);
  });

  it('does not keep an order that is not there', async () => {
    const cache = new OrderReadCache({ maxEntries: 10, maxAgeMs: 60_000 });
    let reads = 0;
    const none = async () => {
      reads++;
      return undefined;
    };
    assert.equal(await cache.read('nope', none), undefined);
    assert.equal(await cache.read('nope', none), undefined);
    assert.equal(reads, 2);
  });
});

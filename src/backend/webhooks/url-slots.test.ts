import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UrlSlots } from './url-slots.ts';

describe('slots per webhook URL', () => {
  it('gives a URL at most its limit of slots and hands a freed one to the first waiting', async () => {
    const slots = new UrlSlots(2, 1000);
    assert.equal(await slots.take('a'), true);
    assert.equal(await slots.take('a'), true);
    const order: string[] = [];
    const third = slots.take('a').then((ok) => order.push(`third ${ok}`));
    const fourth = slots.take('a').then((ok) => order.push(`fourth ${ok}`));
    assert.equal(await slots.take('b'), true, 'another URL does not wait');
    slots.release('a');
    await third;
    assert.deepEqual(order, ['third true'], 'one slot freed, one waiter served');
    slots.release('a');
    await fourth;
    assert.deepEqual(order, ['third true', 'fourth true']);
  });

  it('says no to a delivery that waited longer than the wait, and counts its slot as never taken', async () => {
    const slots = new UrlSlots(1, 20);
    assert.equal(await slots.take('a'), true);
    assert.equal(await slots.take('a'), false);
    slots.release('a');
    assert.equal(await slots.take('a'), true, 'the slot is free again after the release');
  });
});

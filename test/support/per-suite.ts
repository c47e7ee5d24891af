import assert from 'node:assert/strict';
import { after, before } from 'node:test';

/**
 * A thing the tests of a file (or of the `describe` this is called in) share: opened by its `before`, closed
 * by its `after`. It is returned at once as a stand-in that forwards to the thing once opened, so that a test
 * file names it as a constant instead of writing `let x; before(...); after(...)` again each time. Used before
 * it is open (outside a test), it fails saying so; if opening failed, there is nothing to close.
 */
export function perSuite<T extends object>(open: () => Promise<T>, close: (thing: T) => Promise<unknown> | unknown): T {
  let thing: T | undefined;
  before(async () => {
    thing = await open();
  });
  after(async () => {
    if (thing) await close(thing);
  });
  return new Proxy({} as T, {
    get(_, key) {
      assert.ok(thing, `${String(key)} read before the suite's before hook opened what it belongs to`);
      const value: unknown = Reflect.get(thing, key);
      return typeof value === 'function' ? value.bind(thing) : value;
    },
    has: (_, key) => thing !== undefined && Reflect.has(thing, key),
  });
}

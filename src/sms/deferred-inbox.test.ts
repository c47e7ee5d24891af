import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeferredInbox } from './deferred-inbox.ts';

describe('the deferred SMS inbox', () => {
  it('keeps what arrives before the service is attached and hands it over in order, losing nothing', async () => {
    const inbox = new DeferredInbox();
    const seen: string[] = [];
    const early = [
      inbox.message({ from: '1', to: '2', text: 'a' }),
      inbox.receipt('g1', 'delivered'),
      inbox.message({ from: '1', to: '2', text: 'b' }),
    ];
    await inbox.attach({
      message: async (m) => void seen.push(m.text),
      receipt: async (id, s) => void seen.push(`${id}:${s}`),
    });
    await Promise.all(early);
    await inbox.message({ from: '1', to: '2', text: 'c' });
    assert.deepEqual(seen, ['a', 'g1:delivered', 'b', 'c']);
  });

  it('uses a default handler at once when it has one', async () => {
    const seen: string[] = [];
    const inbox = new DeferredInbox({ message: async (m) => void seen.push(m.text) });
    await inbox.message({ from: '1', to: '2', text: 'now' });
    assert.deepEqual(seen, ['now']);
  });
});

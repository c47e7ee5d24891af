import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../log.ts';
import { createApp } from './create-app.ts';

describe('the shared app set-up', () => {
  it('answers /readyz 200 while storage answers and 503 NOT_READY when it does not', async () => {
    let up = true;
    const app = await createApp({ log: createLogger('silent'), title: 't', ready: async () => { if (!up) throw new Error('connection refused'); return true; } });
    assert.equal((await app.inject({ url: '/readyz' })).statusCode, 200);
    up = false;
    const down = await app.inject({ url: '/readyz' });
    assert.equal(down.statusCode, 503);
    assert.equal(down.json().code, 'NOT_READY');
    assert.equal((await app.inject({ url: '/healthz' })).statusCode, 200, 'alive all the same');
    await app.close();
  });
});

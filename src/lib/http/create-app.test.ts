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

  it('gives documents helmet headers (a route may bring its own CSP) and every other answer nosniff and a CSP that runs nothing', async () => {
    const app = await createApp({ log: createLogger('silent'), title: 't', ready: async () => true });
    app.get('/page', async (_req, reply) => reply.type('text/html; charset=utf-8').send('<p>hi</p>'));
    app.get('/own', { config: { contentSecurityPolicy: { defaultSrc: ["'self'"], scriptSrc: ["'self'", "'unsafe-inline'"] } } }, async (_req, reply) => reply.type('text/html').send('<p>own</p>'));
    const page = await app.inject({ url: '/page' });
    assert.match(String(page.headers['content-security-policy']), /frame-ancestors 'none'/);
    assert.equal(page.headers['x-frame-options'], 'SAMEORIGIN');
    assert.equal(page.headers['referrer-policy'], 'no-referrer');
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    assert.equal((await app.inject({ url: '/own' })).headers['content-security-policy'], "default-src 'self';script-src 'self' 'unsafe-inline'");
    for (const url of ['/healthz', '/no-such-thing']) {
      const json = await app.inject({ url });
      assert.equal(json.headers['x-content-type-options'], 'nosniff', url);
      assert.equal(json.headers['content-security-policy'], "default-src 'none'; frame-ancestors 'none'", url);
      assert.equal(json.headers['x-frame-options'], undefined, `${url}: the document headers are for documents`);
    }
    await app.close();
  });
});

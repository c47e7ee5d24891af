import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../log.ts';
import { createApp } from './create-app.ts';
import { sendDocument } from './security-headers.ts';
import { illFormed } from './text-guards.ts';

/** A POST with this text as its JSON body. */
const postJson = (app: Awaited<ReturnType<typeof createApp>>, url: string, payload: string) =>
  app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload });

describe('the shared app set-up', () => {
  it('answers /readyz 200 while storage answers and 503 NOT_READY when it does not', async () => {
    let up = true;
    const app = await createApp({
      log: createLogger('silent'),
      title: 't',
      ready: async () => {
        if (!up) throw new Error('connection refused');
        return true;
      },
    });
    assert.equal((await app.inject({ url: '/readyz' })).statusCode, 200);
    up = false;
    const down = await app.inject({ url: '/readyz' });
    assert.equal(down.statusCode, 503);
    assert.equal(down.json().code, 'NOT_READY');
    assert.equal((await app.inject({ url: '/healthz' })).statusCode, 200, 'alive all the same');
    await app.close();
  });

  it('gives documents helmet headers (or a route’s own CSP), every other answer nosniff and a null CSP', async () => {
    const app = await createApp({ log: createLogger('silent'), title: 't', ready: async () => true });
    app.get('/page', async (_req, reply) => sendDocument(reply, '<p>hi</p>'));
    app.get(
      '/own',
      { config: { contentSecurityPolicy: { defaultSrc: ["'self'"], scriptSrc: ["'self'", "'unsafe-inline'"] } } },
      async (_req, reply) => sendDocument(reply, '<p>own</p>'),
    );
    app.get('/forgotten', async (_req, reply) => reply.type('text/html').send('<p>sent another way</p>'));
    const page = await app.inject({ url: '/page' });
    assert.match(String(page.headers['content-security-policy']), /frame-ancestors 'none'/);
    assert.equal(page.headers['x-frame-options'], 'SAMEORIGIN');
    assert.equal(page.headers['referrer-policy'], 'no-referrer');
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    assert.equal(
      (await app.inject({ url: '/own' })).headers['content-security-policy'],
      "default-src 'self';script-src 'self' 'unsafe-inline'",
    );
    assert.equal(
      (await app.inject({ url: '/forgotten' })).headers['content-security-policy'],
      "default-src 'none'; frame-ancestors 'none'",
      'a page not sent as a document runs and loads nothing',
    );
    for (const url of ['/healthz', '/no-such-thing']) {
      const json = await app.inject({ url });
      assert.equal(json.headers['x-content-type-options'], 'nosniff', url);
      assert.equal(json.headers['content-security-policy'], "default-src 'none'; frame-ancestors 'none'", url);
      assert.equal(json.headers['x-frame-options'], undefined, `${url}: the document headers are for documents`);
    }
    await app.close();
  });

  it('never hands a handler a lone surrogate from a path, query or form (UTF-8); refuses one in JSON', async () => {
    const app = await createApp({ log: createLogger('silent'), title: 't', ready: async () => true });
    const seen: string[] = [];
    app.get('/echo/:word', async (request) => {
      seen.push((request.params as { word: string }).word, ...Object.values(request.query as Record<string, string>));
      return {};
    });
    app.post('/form', { schema: { body: { type: 'object' } } }, async (request) => {
      seen.push(...Object.values(request.body as Record<string, string>));
      return {};
    });
    // The UTF-8 bytes a lone surrogate would have (CESU-8), a lone continuation byte, an overlong form, and well-formed
    // text.
    for (const bytes of ['%ED%A0%80', '%ED%B0%80x', '%80', '%C0%AF', '%E4%BD%A0%F0%9F%99%82']) {
      const path = await app.inject({ url: `/echo/${bytes}?q=${bytes}` });
      if (bytes.startsWith('%E4')) assert.equal(path.statusCode, 200);
      else
        assert.deepEqual(
          [path.statusCode, path.headers['content-type'], path.json().code],
          [400, 'application/problem+json; charset=utf-8', 'URL_MALFORMED'],
          bytes,
        );
      const query = await app.inject({ url: `/echo/word?q=${bytes}` });
      assert.equal(query.statusCode, 200, `${bytes}: a query's bad escapes are kept as they came`);
      const form = await app.inject({
        method: 'POST',
        url: '/form',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: `a=${bytes}`,
      });
      assert.ok(form.statusCode < 500, `${bytes}: ${form.statusCode}`);
    }
    assert.ok(seen.length > 0, 'some of it reached the handlers');
    assert.deepEqual(seen.filter(illFormed), [], 'none of it as a lone surrogate');
    const json = await postJson(app, '/form', '{"a":{"b":["ok","x\\udfff"]}}');
    assert.equal(json.statusCode, 400);
    assert.equal(json.json().code, 'TEXT_MALFORMED');
    assert.match(json.json().detail, /a\.b\[1\]/);
    await app.close();
  });

  it('refuses a body on a POST whose route takes none, and lets one through empty', async () => {
    const app = await createApp({ log: createLogger('silent'), title: 't', ready: async () => true });
    app.post('/act', async () => ({ done: true }));
    const junk = await postJson(app, '/act', '{"x":1}');
    assert.equal(junk.statusCode, 400);
    assert.equal(junk.json().code, 'BODY_NOT_ALLOWED');
    assert.equal((await app.inject({ method: 'POST', url: '/act' })).statusCode, 200);
    assert.equal((await postJson(app, '/act', '{}')).statusCode, 200);
    await app.close();
  });
});

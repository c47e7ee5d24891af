import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { tvRoutes } from './tv-routes.ts';

describe('TV app bundle', () => {
  it('serves the app within the 100 KB gzipped budget, built for ES2017 browsers', async () => {
    const app = Fastify();
    tvRoutes(app);
    const page = await app.inject({ url: '/tv/' });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<script src="\/tv\/app.js">/);
    const js = await app.inject({ url: '/tv/app.js' });
    assert.equal(js.statusCode, 200);
    const gz = gzipSync(js.body).length;
    assert.ok(gz < 100 * 1024, `app.js is ${gz} bytes gzipped`);
    assert.doesNotMatch(js.body, /\?\.|\?\?/, 'no optional chaining or nullish coalescing (not in ES2017)');
    const css = await app.inject({ url: '/tv/app.css' });
    assert.match(css.body, /#stage/);
    await app.close();
  });
});

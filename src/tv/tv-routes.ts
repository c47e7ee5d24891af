import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { sendDocument } from '../lib/http/security-headers.ts';
import { bundleTvApp } from './tv-bundle.ts';

const HERE = dirname(fileURLToPath(import.meta.url));

const INDEX = `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=1920,initial-scale=1"><title>tvpay</title>
<link rel="stylesheet" href="/tv/app.css"></head><body><div id="stage"></div><script src="/tv/app.js"></script>\
</body></html>`;

/**
 * Serves the TV app at /tv/: the bundle built ahead of time when tvpay runs
 * compiled (`dist/tv/app.js`, next to this file), else bundled from the
 * sources once per process (tests, development).
 */
export function tvRoutes(app: FastifyInstance): void {
  let bundle: Promise<string> | undefined;
  const prebuilt = join(HERE, 'app.js');
  const js = () =>
    (bundle ??= existsSync(prebuilt) ? readFile(prebuilt, 'utf8') : bundleTvApp(join(HERE, 'app/main.ts')));
  const headers = { 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' };

  app.get('/favicon.ico', { schema: { hide: true } }, async (_req, reply) => reply.code(204).send());
  app.get('/tv', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/tv/', 302));
  app.get('/tv/', { schema: { hide: true } }, async (_req, reply) => sendDocument(reply.headers(headers), INDEX));
  app.get('/tv/app.js', { schema: { hide: true } }, async (_req, reply) =>
    reply
      .headers(headers)
      .type('text/javascript; charset=utf-8')
      .send(await js()),
  );
  app.get('/tv/app.css', { schema: { hide: true } }, async (_req, reply) =>
    reply
      .headers(headers)
      .type('text/css; charset=utf-8')
      .send(await readFile(join(HERE, 'app/app.css'), 'utf8')),
  );
}

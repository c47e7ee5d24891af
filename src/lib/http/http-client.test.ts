import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { httpCall } from './http-client.ts';

let server: Server;
let base: string;
const sockets = new Set<unknown>();

before(async () => {
  server = createServer((req, res) => {
    sockets.add(req.socket);
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (req.url === '/silent') return; // never answers
      if (req.url === '/broken') {
        res.writeHead(503).end('try later');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          method: req.method,
          type: req.headers['content-type'],
          length: req.headers['content-length'],
          body,
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

describe('HTTP calls between services', () => {
  it('sends a body with its length and reads the answer, reusing one kept-alive connection', async () => {
    const body = JSON.stringify({ text: '确认支付' });
    for (let i = 0; i < 3; i++) {
      const answer = await httpCall(`${base}/echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        timeoutMs: 2000,
      });
      assert.equal(answer.status, 200);
      assert.ok(answer.ok);
      assert.deepEqual(JSON.parse(answer.text), {
        method: 'POST',
        type: 'application/json',
        length: String(Buffer.byteLength(body)),
        body,
      });
    }
    assert.equal(sockets.size, 1, 'one connection for three calls');
  });

  it('reports an error status as not ok with its body', async () => {
    const answer = await httpCall(`${base}/broken`, { timeoutMs: 2000 });
    assert.deepEqual(answer, { status: 503, ok: false, text: 'try later' });
  });

  it('fails a call the peer does not answer within its time limit', async () => {
    await assert.rejects(httpCall(`${base}/silent`, { timeoutMs: 200 }), /did not answer within 200 ms/);
  });
});

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { flood } from '../../../test/support/flood.ts';
import { httpCall, MAX_ANSWER_BYTES } from './http-client.ts';

let server: Server;
let base: string;
const sockets = new Set<unknown>();
/** Bytes the flooding receiver managed to hand to its socket, by call. */
let flooded = () => 0;
const FLOOD_BYTES = 300 * 1024 * 1024;

/** Answers 200 and then one byte every 20 ms, never ending. */
function trickle(res: import('node:http').ServerResponse) {
  res.writeHead(200, { 'content-type': 'text/plain' });
  const timer = setInterval(() => res.write('x'), 20);
  res.on('close', () => clearInterval(timer));
}

before(async () => {
  server = createServer((req, res) => {
    sockets.add(req.socket);
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (req.url === '/silent') return; // never answers
      if (req.url === '/flood') return void (flooded = flood(res, FLOOD_BYTES));
      if (req.url === '/trickle') return trickle(res);
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
      assert.ok(answer.ok, 'answer.ok');
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

  it('reads at most 64 KiB of a 300 MiB answer, closes that connection, and the status decides', async () => {
    const answer = await httpCall(`${base}/flood`, { method: 'POST', body: '{}', timeoutMs: 60_000 });
    assert.equal(answer.status, 200);
    assert.ok(answer.ok, 'answer.ok');
    assert.equal(answer.truncated, true);
    assert.equal(Buffer.byteLength(answer.text), MAX_ANSWER_BYTES);
    // The receiver could hand over only what the socket buffers held when the client stopped reading.
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(flooded() < 32 * 1024 * 1024, `the receiver sent ${flooded()} bytes of ${FLOOD_BYTES}`);
    const next = await httpCall(`${base}/echo`, { timeoutMs: 2000 });
    assert.equal(next.status, 200, 'the client still works');
  });

  it('keeps memory bounded over many huge answers', async () => {
    const before = process.memoryUsage().rss;
    for (let i = 0; i < 5; i++) {
      const answer = await httpCall(`${base}/flood`, { timeoutMs: 60_000 });
      assert.equal(Buffer.byteLength(answer.text), MAX_ANSWER_BYTES);
    }
    const grown = process.memoryUsage().rss - before;
    assert.ok(grown < 200 * 1024 * 1024, `RSS grew by ${grown} bytes over five 300 MiB answers`);
  });

  it('cuts an answer that never stops at the time-out', async () => {
    await assert.rejects(httpCall(`${base}/trickle`, { timeoutMs: 300 }), /did not answer within 300 ms/);
  });

  it('reads a whole answer of exactly 64 KiB as not truncated', async () => {
    const body = 'y'.repeat(MAX_ANSWER_BYTES - 200);
    const answer = await httpCall(`${base}/echo`, { method: 'POST', body, timeoutMs: 2000 });
    assert.equal(answer.truncated, undefined);
    assert.equal((JSON.parse(answer.text) as { body: string }).body, body);
  });
});

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { httpCall } from '../../lib/http/http-client.ts';
import { AddressForbiddenError, forbiddenKindOf, guardedAgents, hostKind, isForbidden } from './url-guard.ts';

const kindOf = (url: string) => hostKind(new URL(url).hostname);

describe('webhook URL guard', () => {
  it('knows loopback, private, link-local, unspecified and metadata hosts however they are written', () => {
    for (const [url, kind] of [
      ['http://127.0.0.1/', 'loopback'],
      ['http://2130706433/', 'loopback'],
      ['http://0x7f.1/', 'loopback'],
      ['http://0177.0.0.1/', 'loopback'],
      ['http://127.1/', 'loopback'],
      ['http://[::1]/', 'loopback'],
      ['http://[::ffff:127.0.0.1]/', 'loopback'],
      ['http://[::ffff:7f00:1]/', 'loopback'],
      ['http://localhost:8080/', 'loopback'],
      ['http://LocalHost./', 'loopback'],
      ['http://10.1.2.3/', 'private'],
      ['http://172.16.0.1/', 'private'],
      ['http://172.31.255.255/', 'private'],
      ['http://192.168.1.1/', 'private'],
      ['http://0xc0a80101/', 'private'],
      ['http://[fd12:3456::1]/', 'private'],
      ['http://[::ffff:10.0.0.1]/', 'private'],
      ['http://169.254.1.1/', 'link-local'],
      ['http://[fe80::1]/', 'link-local'],
      ['http://169.254.169.254/latest/meta-data/', 'metadata'],
      ['http://0xa9fea9fe/', 'metadata'],
      ['http://[::ffff:169.254.169.254]/', 'metadata'],
      ['http://[fd00:ec2::254]/', 'metadata'],
      ['http://100.100.100.200/', 'metadata'],
      ['http://metadata.google.internal/computeMetadata/v1/', 'metadata'],
      ['http://METADATA.google.internal./', 'metadata'],
      ['http://0.0.0.0/', 'unspecified'],
      ['http://0/', 'unspecified'],
      ['http://[::]/', 'unspecified'],
    ] as const)
      assert.equal(kindOf(url), kind, url);
  });

  it('leaves public addresses and names alone', () => {
    for (const url of [
      'https://93.184.216.34/',
      'https://172.32.0.1/',
      'https://[2606:4700::1111]/',
      'https://hooks.example.com/',
      'https://metadata-service.example.com/',
    ])
      assert.equal(kindOf(url), undefined, url);
  });

  it('lets TVPAY_WEBHOOK_ALLOW_PRIVATE through loopback and private addresses only', () => {
    assert.equal(isForbidden('loopback', true), false);
    assert.equal(isForbidden('private', true), false);
    for (const kind of ['link-local', 'metadata', 'unspecified'] as const) assert.equal(isForbidden(kind, true), true);
    for (const kind of ['loopback', 'private'] as const) assert.equal(isForbidden(kind, false), true);
    assert.equal(isForbidden(undefined, false), false);
  });

  it('refuses a name that resolves to a forbidden address', async () => {
    assert.equal(await forbiddenKindOf(new URL('http://localhost/'), false), 'loopback');
    assert.equal(await forbiddenKindOf(new URL('http://localhost/'), true), undefined);
    assert.equal(await forbiddenKindOf(new URL('http://169.254.169.254/'), true), 'metadata');
  });
});

describe('webhook connections', () => {
  let server: Server;
  let port: number;
  let requests = 0;
  before(async () => {
    server = createServer((_req, res) => {
      requests++;
      res.writeHead(200).end('ok');
    });
    await new Promise<void>((r) => server.listen(0, 'localhost', r));
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('checks the address a name resolves to when it connects, and sends nothing there', async () => {
    await assert.rejects(
      httpCall(`http://localhost:${port}/`, {
        method: 'POST',
        body: '{}',
        timeoutMs: 2000,
        agents: guardedAgents(false),
      }),
      (err) => err instanceof AddressForbiddenError && err.kind === 'loopback',
    );
    assert.equal(requests, 0, 'no request reached the receiver');
    const allowed = await httpCall(`http://localhost:${port}/`, { timeoutMs: 2000, agents: guardedAgents(true) });
    assert.equal(allowed.status, 200, 'the same receiver is reached when private addresses are allowed');
    assert.equal(requests, 1);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from './config.ts';

describe('configuration', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({});
    assert.equal(c.host, '127.0.0.1');
    assert.deepEqual(c.ports, { backend: 8080, payserver: 8081, carrier: 8082 });
    assert.equal(c.sms.mode, 'dev');
    assert.equal(c.sms.backendFrom, '10690001');
    assert.equal(c.sms.payserverFrom, '10690000');
    assert.equal(c.orderTtlSeconds, 900);
    assert.deepEqual(c.phoneRegions, ['CN']);
    assert.equal(c.publicUrls.payserver, 'http://127.0.0.1:8081');
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.sms));
  });
  it('names every bad value in one clear error', () => {
    try {
      loadConfig({ TVPAY_BACKEND_PORT: 'eighty', TVPAY_SMS: 'pigeon', TVPAY_PHONE_REGIONS: 'China', TVPAY_PAYSERVER_PUBLIC_URL: 'ftp://x', TVPAY_BACKEND_DATABASE_URL: 'mysql://x' });
      assert.fail('should have thrown');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      for (const name of ['TVPAY_BACKEND_PORT', 'TVPAY_SMS', 'TVPAY_PHONE_REGIONS', 'TVPAY_PAYSERVER_PUBLIC_URL', 'TVPAY_BACKEND_DATABASE_URL']) {
        assert.match(err.message, new RegExp(name));
      }
    }
  });
  it('requires Kannel settings when SMS go through Kannel', () => {
    assert.throws(() => loadConfig({ TVPAY_SMS: 'kannel' }), /TVPAY_KANNEL_URL/);
  });
});

describe('the configuration document', () => {
  it('names every variable the configuration reads', async () => {
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const root = join(import.meta.dirname, '..', '..');
    const source = readFileSync(join(root, 'src', 'config', 'config.ts'), 'utf8');
    const doc = readFileSync(join(root, 'docs', 'configuration.md'), 'utf8');
    const read = new Set([...source.matchAll(/'(TVPAY_[A-Z0-9_]+)'/g)].map((m) => m[1]!));
    const missing = [...read].filter((v) => !doc.includes(`\`${v}\``));
    assert.deepEqual(missing, []);
  });
});

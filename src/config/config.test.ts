import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, EnvSchema, loadConfig } from './config.ts';

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
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.sms), 'Object.isFrozen(c) && Object.isFrozen(c.sms)');
  });
  it('names every bad value in one clear error', () => {
    try {
      loadConfig({
        TVPAY_BACKEND_PORT: 'eighty',
        TVPAY_SMS: 'pigeon',
        TVPAY_PHONE_REGIONS: 'China',
        TVPAY_PAYSERVER_PUBLIC_URL: 'ftp://x',
        TVPAY_BACKEND_DATABASE_URL: 'mysql://x',
      });
      assert.fail('should have thrown');
    } catch (err) {
      assert.ok(err instanceof ConfigError, 'err instanceof ConfigError');
      for (const name of [
        'TVPAY_BACKEND_PORT',
        'TVPAY_SMS',
        'TVPAY_PHONE_REGIONS',
        'TVPAY_PAYSERVER_PUBLIC_URL',
        'TVPAY_BACKEND_DATABASE_URL',
      ]) {
        assert.match(err.message, new RegExp(name));
      }
    }
  });
  it('says what each bad value must be, in words an operator reads', () => {
    const err = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (e) {
        return (e as ConfigError).problems;
      }
      return [];
    };
    assert.deepEqual(err({ TVPAY_BACKEND_PORT: '70000' }), [
      'TVPAY_BACKEND_PORT="70000" must be a whole number from 0 to 65535.',
    ]);
    assert.deepEqual(err({ TVPAY_TEST_CLOCK: 'yes' }), ['TVPAY_TEST_CLOCK="yes" must be 1 (on) or 0 (off).']);
    assert.match(err({ TVPAY_BUSINESS_TIMEZONE: 'Mars/Olympus' })[0]!, /IANA time zone/);
    assert.match(err({ TVPAY_CRASH_AT: 'nowhere' })[0]!, /known crash points/);
    assert.match(err({ TVPAY_ADMIN_TOKEN: 'short' })[0]!, /at least 16 characters/);
    assert.match(err({ TVPAY_MERCHANT_NAME: '这是一个非常非常长的商户名称' })[0]!, /1 to 12 characters/);
    assert.deepEqual(err({ TVPAY_ORDER_TTL_SECONDS: '', TVPAY_TEST_CLOCK: '0' }), []);
  });
  it('turns numbers, flags and lists from text', () => {
    const c = loadConfig({
      TVPAY_ORDER_TTL_SECONDS: ' 60 ',
      TVPAY_TEST_CLOCK: '1',
      TVPAY_PHONE_REGIONS: 'cn, hk',
      TVPAY_BACKEND_PUBLIC_URL: 'http://tv.example/',
    });
    assert.equal(c.orderTtlSeconds, 60);
    assert.equal(c.testClock, true);
    assert.deepEqual(c.phoneRegions, ['CN', 'HK']);
    assert.equal(c.publicUrls.backend, 'http://tv.example');
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
    const doc = readFileSync(join(root, 'docs', 'configuration.md'), 'utf8');
    const missing = Object.keys(EnvSchema.properties).filter((v) => !doc.includes(`\`${v}\``));
    assert.deepEqual(missing, []);
  });
});

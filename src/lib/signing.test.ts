import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { signRequest, verifyRequest } from './signing.ts';

const secret = 'a-shared-secret-for-tests';
const now = new Date('2026-05-01T12:00:00Z');
const body = '{"orderId":"ord_1"}';
const nonce = 'abcdefghijklmnop';

describe('service-to-service HMAC signing', () => {
  it('verifies a message signed with the same secret', () => {
    const headers = signRequest(secret, 'POST', '/internal/v1/x', body, now, nonce);
    assert.deepEqual(verifyRequest(secret, headers, 'POST', '/internal/v1/x', body, now), { ok: true, nonce });
  });
  it('refuses an altered body, path, method or another secret', () => {
    const headers = signRequest(secret, 'POST', '/internal/v1/x', body, now, nonce);
    assert.equal(verifyRequest(secret, headers, 'POST', '/internal/v1/x', body.replace('1', '2'), now).ok, false);
    assert.equal(verifyRequest(secret, headers, 'POST', '/internal/v1/y', body, now).ok, false);
    assert.equal(verifyRequest(secret, headers, 'PUT', '/internal/v1/x', body, now).ok, false);
    assert.equal(verifyRequest('another-secret-of-16', headers, 'POST', '/internal/v1/x', body, now).ok, false);
  });
  it('refuses a message older or newer than five minutes', () => {
    const headers = signRequest(secret, 'POST', '/p', body, now, nonce);
    assert.equal(verifyRequest(secret, headers, 'POST', '/p', body, new Date(now.getTime() + 4 * 60_000)).ok, true);
    assert.equal(verifyRequest(secret, headers, 'POST', '/p', body, new Date(now.getTime() + 6 * 60_000)).ok, false);
    assert.equal(verifyRequest(secret, headers, 'POST', '/p', body, new Date(now.getTime() - 6 * 60_000)).ok, false);
  });
  it('refuses unsigned or malformed headers', () => {
    assert.equal(verifyRequest(secret, {}, 'POST', '/p', body, now).ok, false);
    const headers = signRequest(secret, 'POST', '/p', body, now, nonce);
    assert.equal(
      verifyRequest(secret, { ...headers, 'x-tvpay-timestamp': 'yesterday' }, 'POST', '/p', body, now).ok,
      false,
    );
    assert.equal(
      verifyRequest(secret, { ...headers, 'x-tvpay-signature': 'v1=00' }, 'POST', '/p', body, now).ok,
      false,
    );
  });
});

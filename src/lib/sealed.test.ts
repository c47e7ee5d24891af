import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seal, unseal } from './sealed.ts';

describe('sealed secrets', () => {
  it('opens what it sealed, and the sealed text does not contain the secret', () => {
    const sealed = seal('k'.repeat(32), 'whsec_abc123');
    assert.ok(!sealed.includes('whsec_abc123'), "!sealed.includes('whsec_abc123')");
    assert.equal(unseal('k'.repeat(32), sealed), 'whsec_abc123');
  });

  it('refuses to open with another key or after the text was altered', () => {
    const sealed = seal('k'.repeat(32), 'whsec_abc123');
    assert.throws(() => unseal('x'.repeat(32), sealed));
    const parts = sealed.split('.');
    parts[3] = Buffer.from('whsec_abc124').toString('base64url');
    assert.throws(() => unseal('k'.repeat(32), parts.join('.')));
  });
});

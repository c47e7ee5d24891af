import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { outcomeWord } from './rail-trace.ts';

describe("a rail log line's outcome on the timeline", () => {
  it('keeps only the first word of what was learnt, never the message, error or numbers after it', () => {
    assert.equal(outcomeWord('start', 'qr'), 'qr');
    assert.equal(outcomeWord('notification', 'paid (2026120722001)'), 'paid');
    assert.equal(outcomeWord('start', 'unknown: error: connect ECONNREFUSED sign=abc'), 'unknown');
    assert.equal(outcomeWord('query', "refused: 2026120722001 is already another trade's"), 'refused');
  });

  it("reads a refund line's outcome after its refund id", () => {
    assert.equal(outcomeWord('refund', 'rfd_abc123: succeeded'), 'succeeded');
    assert.equal(outcomeWord('query_refund', 'rfd_abc123: failed: REFUND_FAILED (ACQ.X)'), 'failed');
  });

  it('says "other" of an outcome that does not start with a word', () => {
    assert.equal(outcomeWord('query', '-----BEGIN PRIVATE KEY-----'), 'other');
  });
});

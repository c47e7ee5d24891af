import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger, lazyChild } from './log.ts';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, stream };
}

describe("a request's lazy logger", () => {
  it('writes the lines that are on with its bindings and redaction, nothing for the ones that are off', async () => {
    const { lines, stream } = capture();
    const log = lazyChild(createLogger('warn', undefined, stream), { reqId: 'req-1', correlationId: 'corr-12345678' });
    log.info('incoming request');
    log.debug({ x: 1 }, 'detail');
    log.warn({ headers: { authorization: 'Bearer secret' } }, 'slow');
    await new Promise((r) => setImmediate(r));
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.msg, 'slow');
    assert.equal(lines[0]!.reqId, 'req-1');
    assert.equal(lines[0]!.correlationId, 'corr-12345678');
    assert.deepEqual(lines[0]!.headers, { authorization: '[redacted]' });
    assert.equal(log.level, 'warn');
    assert.equal(log.isLevelEnabled('info'), false);
    assert.equal(log.isLevelEnabled('error'), true);
  });

  it("honours a route's own level and a level set on it later", async () => {
    const { lines, stream } = capture();
    const parent = createLogger('warn', undefined, stream);
    const routeLevel = lazyChild(parent, { reqId: 'req-2' }, { level: 'debug' });
    routeLevel.debug('on for this route');
    const changed = lazyChild(parent, { reqId: 'req-3' });
    changed.level = 'error';
    changed.warn('now off');
    changed.child({ step: 'inner' }).error('from a child of it');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(
      lines.map((l) => [l.msg, l.reqId, l.step]),
      [
        ['on for this route', 'req-2', undefined],
        ['from a child of it', 'req-3', 'inner'],
      ],
    );
  });
});

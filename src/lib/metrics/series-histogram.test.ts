import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Histogram, Registry } from 'prom-client';
import { SeriesHistogram } from './series-histogram.ts';

const BUCKETS = [0.001, 0.01, 0.1, 1];

describe('SeriesHistogram', () => {
  it("writes the same exposition as prom-client's Histogram for the same observations", async () => {
    const ours = new Registry();
    const theirs = new Registry();
    ours.setDefaultLabels({ service: 'backend' });
    theirs.setDefaultLabels({ service: 'backend' });
    const fast = new SeriesHistogram('h_seconds', 'A histogram.', ['method', 'route'], BUCKETS, ours);
    const reference = new Histogram({
      name: 'h_seconds',
      help: 'A histogram.',
      labelNames: ['method', 'route'],
      buckets: BUCKETS,
      registers: [theirs],
    });
    const observations: Array<[string, string, number]> = [
      ['GET', '/v1/orders/:orderId', 0.0005],
      ['GET', '/v1/orders/:orderId', 0.001],
      ['GET', '/v1/orders/:orderId', 0.05],
      ['POST', '/v1/orders', 3],
      ['GET', '/v1/orders/:orderId', 0.2],
    ];
    for (const [method, route, value] of observations) {
      fast.series({ route, method })(value);
      reference.labels({ method, route }).observe(value);
    }
    assert.equal(await ours.metrics(), await theirs.metrics());
  });

  it("counts a value on a bucket's bound in that bucket, ignores non-numbers, counts on after a reset", async () => {
    const registry = new Registry();
    const h = new SeriesHistogram('b_bytes', 'Bytes.', ['route'], [100, 300], registry);
    const observe = h.series({ route: '/x' });
    observe(100);
    observe(101);
    observe(Number.NaN);
    observe(5000);
    const text = await registry.metrics();
    assert.match(text, /b_bytes_bucket\{le="100",route="\/x"\} 1/);
    assert.match(text, /b_bytes_bucket\{le="300",route="\/x"\} 2/);
    assert.match(text, /b_bytes_bucket\{le="\+Inf",route="\/x"\} 3/);
    assert.match(text, /b_bytes_sum\{route="\/x"\} 5201/);
    assert.match(text, /b_bytes_count\{route="\/x"\} 3/);
    registry.resetMetrics();
    assert.match(await registry.metrics(), /b_bytes_count\{route="\/x"\} 0/);
    observe(7);
    assert.match(
      await registry.metrics(),
      /b_bytes_count\{route="\/x"\} 1/,
      'a series handed out before the reset still counts',
    );
  });
});

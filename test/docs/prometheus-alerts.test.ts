import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const DOCS = fileURLToPath(new URL('../../docs/', import.meta.url));

/** Runs promtool in docs/ (the rules test names its rule file relative to itself). */
function promtool(...args: string[]) {
  return spawnSync('promtool', args, { cwd: DOCS, encoding: 'utf8' });
}

/** Skip reason when promtool is missing (said loudly), or a failure when TVPAY_REQUIRE_PROMTOOL=1. */
function promtoolSkip(): string | false {
  if (!promtool('--version').error) return false;
  const message = 'promtool is not installed (apt-get install prometheus): SKIPPING the alerting rules tests';
  if (process.env.TVPAY_REQUIRE_PROMTOOL === '1')
    throw new Error(`${message} is not allowed (TVPAY_REQUIRE_PROMTOOL=1)`);
  console.warn(`\n!!! ${message} !!!\n`);
  return message;
}

const skip = promtoolSkip();

describe('the sample alerting rules (docs/prometheus-alerts.yml)', { skip }, () => {
  it('are valid Prometheus rules', () => {
    const run = promtool('check', 'rules', 'prometheus-alerts.yml');
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /SUCCESS: 7 rules found/);
  });

  it('each fire on what they are for, the counters on their first event, and not before (promtool test rules)', () => {
    const run = promtool('test', 'rules', 'prometheus-alerts.test.yml');
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /SUCCESS/);
  });

  it('every alert has a test', () => {
    const rules = promtool('check', 'rules', 'prometheus-alerts.yml');
    const count = Number(/SUCCESS: (\d+) rules found/.exec(rules.stdout)?.[1]);
    const alerts = [...readFileSync(`${DOCS}prometheus-alerts.yml`, 'utf8').matchAll(/- alert: (\w+)/g)].map(
      (m) => m[1],
    );
    assert.equal(alerts.length, count);
    const tests = readFileSync(`${DOCS}prometheus-alerts.test.yml`, 'utf8');
    for (const a of alerts) assert.match(tests, new RegExp(`alertname: ${a}\\b`), `${a} has no promtool test`);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/eventually.ts';
import { startProcesses, type Processes } from '../support/processes.ts';
import { e2eKit, orderHeldForCode } from './e2e-kit.ts';

const PHONE = '8613800138000';
let p: Processes;
let k: ReturnType<typeof e2eKit>;
before(async () => {
  p = await startProcesses({ TVPAY_ORDER_TTL_SECONDS: '3', TVPAY_LOG_LEVEL: 'info' });
  k = e2eKit(p);
});
after(async () => {
  await p?.close();
});

describe('expiry and shutdown, end to end', () => {
  it('expires an unpaid order, releases its hold, and a late reply moves no money', async () => {
    const { before, orderId, code } = await orderHeldForCode(k, PHONE, '13800138000');
    assert.equal((await k.account(PHONE)).wallet.heldMinor, 2500);
    const expired = await k.until(orderId, 'expired');
    assert.equal(expired.paidAt, null);
    await eventually(async () => assert.deepEqual((await k.account(PHONE)).wallet, before.wallet));
    await k.reply(PHONE, code);
    assert.deepEqual((await k.account(PHONE)).wallet, before.wallet);
    assert.equal((await k.tv('GET', `/v1/orders/${orderId}`)).json().status, 'expired');
    const late = await k.tv('POST', `/v1/orders/${orderId}/payer`, { phone: '13800138000' });
    assert.equal(late.status, 409);
    assert.equal(late.json().code, 'ORDER_FINAL');
  });

  it('never writes a code, token or unmasked secret to its logs', async () => {
    const secrets = [p.secrets.adminToken, p.secrets.serviceSecret, p.secrets.smsInboundToken, p.deviceToken];
    // The start banner prints the admin and demo device tokens once, by design; the log lines are JSON.
    const text = p.logs
      .join('')
      .split('\n')
      .filter((l) => /^(\[\w+\] )?\{/.test(l))
      .join('\n');
    assert.ok(text.includes('"statusCode"') || text.includes('"url"'), 'the services logged requests');
    for (const s of secrets) assert.ok(!text.includes(s), 'a secret reached the logs');
    for (const m of await k.inbox(PHONE)) {
      const code = /(\d{6})/.exec(m.text)?.[1];
      if (code) assert.ok(!text.includes(code), 'a code reached the logs');
    }
  });

  it('stops each service cleanly on SIGTERM', async () => {
    for (const part of ['backend', 'payserver', 'carrier'] as const) {
      await p.stop(part, 'SIGTERM');
      assert.equal(p.exitCode(part), 0, `${part} exited with ${p.exitCode(part)}`);
    }
  });
});

import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startProcesses, type Processes } from '../support/processes.ts';
import { e2eKit, watchEvents } from './e2e-kit.ts';

/** The limit under test (TVPAY_SHUTDOWN_SECONDS); shorter than the default 10 only to keep the test short. */
const LIMIT_SECONDS = 4;
const PHONE = '8613800138000';

let p: Processes;
let k: ReturnType<typeof e2eKit>;
before(async () => {
  p = await startProcesses({ TVPAY_SHUTDOWN_SECONDS: String(LIMIT_SECONDS), TVPAY_LOG_LEVEL: 'info' });
  k = e2eKit(p);
});
after(async () => {
  await p?.close();
});

/** A client that sent half a request head and then nothing more: the server holds its request in flight. */
async function halfSentRequest(url: string): Promise<net.Socket> {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  await new Promise((r) => socket.once('connect', r));
  socket.on('error', () => {});
  socket.write('POST /v1/devices HTTP/1.1\r\nHost: tvpay\r\nContent-Type: application/json\r\n');
  return socket;
}

/** A client that keeps asking on one kept-alive connection, as the development phone page's script does. */
function poller(url: string) {
  const agent = new http.Agent({ keepAlive: true });
  let stopped = false;
  let answers = 0;
  const loop = (async () => {
    while (!stopped) {
      await new Promise<void>((resolve) => {
        http
          .get(url, { agent }, (res) => {
            answers++;
            res.resume().on('end', resolve).on('error', resolve);
          })
          .on('error', () => resolve());
      });
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return {
    answers: () => answers,
    async stop() {
      stopped = true;
      await loop;
      agent.destroy();
    },
  };
}

/** SIGTERMs a part and says whether it exited by itself, and how. */
async function terminate(name: 'backend#0' | 'carrier#0') {
  const started = process.hrtime.bigint();
  await p.stopOne(name, 'SIGTERM');
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

const errorLines = (name: string) =>
  p.logs
    .filter((l) => l.startsWith(`[${name}]`))
    .join('')
    .split('\n')
    .filter((l) => /"level":(50|60)/.test(l));

describe('SIGTERM whatever clients hold', () => {
  it('ends the back-end within its limit with a half-sent request, an event stream and idle kept-alive sockets', async (t) => {
    const tv = k.tv;
    const orderId = await k.order('vip-month');
    const events = await watchEvents(`${p.urls.backend}/v1/orders/${orderId}/events`, p.deviceToken);
    const half = await halfSentRequest(p.urls.backend);
    const polling = poller(`${p.urls.backend}/readyz`);
    while (polling.answers() < 2) await new Promise((r) => setTimeout(r, 100));
    assert.equal((await tv('GET', `/v1/orders/${orderId}`)).status, 200);
    const { seconds } = await terminate('backend#0');
    await polling.stop();
    half.destroy();
    await events.done.catch(() => []);
    t.diagnostic(`exited ${seconds.toFixed(2)} s after SIGTERM`);
    assert.equal(p.exitCode('backend'), 0, 'a clean exit, not the forced one');
    assert.ok(seconds < LIMIT_SECONDS, `exited after ${seconds.toFixed(1)} s, over its limit of ${LIMIT_SECONDS} s`);
    assert.deepEqual(errorLines('backend#0'), [], 'no error logged');
  });

  it('ends the carrier within its limit while the phone page polls and a request is half sent', async (t) => {
    const half = await halfSentRequest(p.urls.carrier);
    const polling = poller(`${p.urls.carrier}/dev/v1/phones/${PHONE}/messages`);
    while (polling.answers() < 2) await new Promise((r) => setTimeout(r, 100));
    const { seconds } = await terminate('carrier#0');
    await polling.stop();
    half.destroy();
    t.diagnostic(`exited ${seconds.toFixed(2)} s after SIGTERM`);
    assert.equal(p.exitCode('carrier'), 0, 'a clean exit, not the forced one');
    assert.ok(seconds < LIMIT_SECONDS, `exited after ${seconds.toFixed(1)} s, over its limit of ${LIMIT_SECONDS} s`);
    assert.deepEqual(errorLines('carrier#0'), [], 'no error logged');
  });
});

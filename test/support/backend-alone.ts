import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InjectOptions } from 'fastify';
import { buildBackend } from '../../src/backend/backend.ts';
import type { PaymentEvent, PaymentEventAnswer } from '../../src/contracts/provider-api.ts';
import { loadConfig } from '../../src/config/config.ts';
import type { Secrets } from '../../src/config/secrets.ts';
import { seedBackend } from '../../src/demo/seed.ts';
import { ShiftedClock } from '../../src/lib/clock.ts';
import { openDatabase } from '../../src/lib/db/open-database.ts';
import { inProcessTransport } from '../../src/lib/http/peer-transport.ts';
import { SignedClient } from '../../src/lib/http/service-auth.ts';
import type { TestClock } from '../../src/lib/http/test-clock-routes.ts';
import { cryptoRandom } from '../../src/lib/ids.ts';
import { createLogger } from '../../src/lib/log.ts';
import type { OutgoingSms, SmsGateway } from '../../src/sms/gateway.ts';
import type { BackendTables } from '../../src/backend/schema.ts';
import { eventually } from './eventually.ts';
import { FakePaymentProvider } from './fake-payment-provider.ts';
import { walk, type Answer, type Caller } from './walk.ts';

/** The phone the demo binds: a quick-pay agreement and a wallet of 500.00 at the fake provider. */
export const BOUND = '+8613800138000';

/** An SMS link that keeps what the back-end sends (link SMS, subscription notices), for the test to read. */
class RecordingGateway implements SmsGateway {
  readonly sent: OutgoingSms[] = [];
  async send(sms: OutgoingSms): Promise<{ gatewayId?: string }> {
    this.sent.push(sms);
    return { gatewayId: `gw_${this.sent.length}` };
  }
}

const testSecrets = (): Secrets => ({
  adminToken: cryptoRandom.token(),
  smsInboundToken: cryptoRandom.token(),
  serviceSecret: cryptoRandom.token(),
  sendsmsPassword: cryptoRandom.token(),
  codeKey: cryptoRandom.token(),
  encryptionKey: cryptoRandom.token(),
});

/**
 * The back-end alone, for tests of its own rules: an in-memory SQLite store with the demo catalogue and
 * TV, an SMS link that records, and a fake payment server behind the real provider interface, which tells
 * the back-end outcomes with signed payment events into its inbox. No payment server, no carrier, no
 * ports. Closed by `t.after`. `testSystem` (system.ts) stays for flows that cross services.
 */
export async function backendAlone(t: { after(fn: () => Promise<void>): void }, env: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'tvpay-backend-'));
  const config = loadConfig({ TVPAY_DATA_DIR: dir, ...env });
  const secrets = testSecrets();
  const clock = new ShiftedClock();
  const provider = new FakePaymentProvider(clock);
  provider.bind(BOUND);
  const gateway = new RecordingGateway();
  const backend = await buildBackend({
    config,
    secrets,
    // In memory, unless the test puts the store on PostgreSQL (TVPAY_BACKEND_DATABASE_URL).
    store: openDatabase<BackendTables>(env.TVPAY_BACKEND_DATABASE_URL ? config.backendDatabase : ':memory:'),
    clock,
    random: cryptoRandom,
    gateway,
    log: createLogger(process.env.TVPAY_TEST_LOG ?? 'silent'),
    provider,
    testClock: config.testClock ? (clock as TestClock) : undefined,
  });
  const payserver = new SignedClient(
    inProcessTransport(
      () => backend.app,
      () => assert.fail('the back-end is gone'),
    ),
    secrets.serviceSecret,
    clock,
  );
  provider.connect((event: PaymentEvent) => payserver.post<PaymentEventAnswer>('/internal/v1/payment-events', event));
  const demo = await seedBackend(backend.services.products, backend.services.devices);
  backend.start();
  const close = async () => {
    await provider.idle();
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(provider.refused, [], 'the back-end refused none of the payment server’s messages');
  };
  t.after(close);
  return kit({ backend, provider, gateway, clock, secrets, config, payserver, demoToken: demo.token });
}

type Backend = Awaited<ReturnType<typeof buildBackend>>;

function kit(k: {
  backend: Backend;
  provider: FakePaymentProvider;
  gateway: RecordingGateway;
  clock: ShiftedClock;
  secrets: Secrets;
  config: ReturnType<typeof loadConfig>;
  /** Signed messages as the payment server sends them. */
  payserver: SignedClient;
  demoToken: string;
}) {
  const { backend, provider, clock } = k;
  const as = (token: string | undefined) => caller(backend, token);
  const backendAdmin = as(k.secrets.adminToken);
  const noPayserver: Caller = async () => assert.fail('the back-end alone has no payment server or carrier');
  const w = walk({ tv: as(k.demoToken), as, backendAdmin, payAdmin: noPayserver, carrier: noPayserver });
  /** Waits until the back-end asked the provider to start the order's payment (its outbox runs it). */
  const started = (orderId: string) =>
    eventually(() => {
      const start = provider.startOf(orderId);
      assert.ok(start, `the back-end has not started a payment of ${orderId}`);
      return start;
    });
  return {
    ...k,
    db: backend.db,
    tv: w.tv,
    as,
    backendAdmin,
    newTv: w.newTv,
    order: w.order,
    until: w.until,
    started,
    /** The texts the back-end sent to a phone (E.164), oldest first. */
    smsTo: (phone: string) => k.gateway.sent.filter((s) => s.to === phone).map((s) => s.text),
    /** A TV of its own buys a product; the phone pays it at the provider; resolves once the TV sees it fulfilled. */
    async paidOrder(productId: string, options: { phone?: string; source?: 'wallet' | 'card'; name?: string } = {}) {
      const name = options.name ?? `tv-${Math.random().toString(36).slice(2, 8)}`;
      const tv = await w.newTv(name);
      const orderId = await w.order(productId, tv);
      await w.payer(orderId, options.phone ?? BOUND, tv);
      await started(orderId);
      const { payment } = await provider.complete(orderId, { source: options.source });
      await w.until(orderId, 'fulfilled', tv);
      return { orderId, tv, payment, accountId: `acct-${name}` };
    },
    /** A phone replied TD to the payment server's number; it forwards the cancel, as the real one does. */
    async cancelByPhone(phone: string): Promise<number> {
      const path = '/internal/v1/subscriptions/cancel-by-phone';
      return (await k.payserver.post<{ cancelled: number }>(path, { phone })).cancelled;
    },
    /** Moves time forward and runs the back-end's housekeeping once. */
    async advance(ms: number) {
      clock.advance(ms);
      await backend.sweep();
    },
    /** Lets the back-end's outbox and the fake provider's messages run until both are quiet. */
    async settle() {
      await backend.drain();
      await provider.idle();
      await backend.drain();
    },
  };
}

function caller(backend: Backend, token: string | undefined) {
  return (method: string, url: string, payload?: unknown, headers: Record<string, string> = {}) =>
    backend.app
      .inject({
        method: method as InjectOptions['method'],
        url,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
        ...(payload === undefined ? {} : { payload: payload as object }),
      })
      .then((res) => Object.assign(res, { status: res.statusCode, text: res.body }) as typeof res & Answer);
}

export type BackendAlone = Awaited<ReturnType<typeof backendAlone>>;

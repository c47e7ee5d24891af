import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { loadConfig } from '../../src/config/config.ts';
import { loadSecrets } from '../../src/config/secrets.ts';
import { ShiftedClock } from '../../src/lib/clock.ts';
import { cryptoRandom } from '../../src/lib/ids.ts';
import { createLogger } from '../../src/lib/log.ts';
import { startSystem } from '../../src/system.ts';
import type { Rail } from '../../src/payserver/rails/rail.ts';
import { perSuite } from './per-suite.ts';
import { freshServiceDatabases } from './pg.ts';
import { freePorts } from './ports.ts';
import { walk, type Answer } from './walk.ts';

/** The services' configuration over this data dir, on free loopback ports, with these settings over it. */
export async function configOn(dir: string, env: Record<string, string> = {}) {
  const [backend, payserver, carrier] = await freePorts(3);
  return loadConfig({
    TVPAY_DATA_DIR: dir,
    TVPAY_BACKEND_PORT: String(backend),
    TVPAY_PAYSERVER_PORT: String(payserver),
    TVPAY_CARRIER_PORT: String(carrier),
    ...env,
  });
}

/** An injected request's answer, readable as the walks' `Answer` too. */
export type Injected = LightMyRequestResponse & Answer;

/**
 * The three services in this process on a fresh SQLite data dir in a temp
 * folder, on free loopback ports, with the demo data. Requests under test go
 * through `app.inject`; the services hand each other their signed messages
 * in-process, as `npm start` does, or with `inProcess: false` over real HTTP
 * (the carrier, as Kannel would be, is always reached over HTTP).
 */
export async function testSystem(
  env: Record<string, string> = {},
  options: {
    /** Collects every log line (at info) instead of discarding them. */ logs?: string[];
    inProcess?: boolean;
    /** Money rails to run in the payment server. */
    rails?: readonly Rail[];
    /** Each service on a fresh PostgreSQL database of its own (dropped by `close`), not on SQLite. */
    postgres?: boolean;
  } = {},
) {
  const dir = mkdtempSync(join(tmpdir(), 'tvpay-test-'));
  const pg = options.postgres ? await freshServiceDatabases() : undefined;
  const config = await configOn(dir, { ...env, ...pg?.env });
  const { secrets } = loadSecrets(config);
  const logs = options.logs;
  const log = logs
    ? createLogger('info', undefined, { write: (line: string) => void logs.push(line) })
    : createLogger(process.env.TVPAY_TEST_LOG ?? 'silent');
  // Real time, which a test may move forward (then `sweep()`), instead of sleeping.
  const clock = new ShiftedClock();
  const system = await startSystem({ config, secrets, clock, random: cryptoRandom, log }, undefined, {
    inProcess: options.inProcess,
    rails: options.rails,
  }).catch(async (err: unknown) => {
    await pg?.drop();
    throw err;
  });
  const deviceToken = system.demoDeviceToken!;
  const call =
    (app: { inject(o: InjectOptions): Promise<LightMyRequestResponse> }, token: string | undefined) =>
    (method: string, url: string, payload?: unknown, headers: Record<string, string> = {}) =>
      app
        .inject({
          method: method as InjectOptions['method'],
          url,
          headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
          ...(payload === undefined
            ? {}
            : typeof payload === 'string'
              ? {
                  payload,
                  headers: {
                    'content-type': 'application/json',
                    ...(token ? { authorization: `Bearer ${token}` } : {}),
                    ...headers,
                  },
                }
              : { payload: payload as object }),
        })
        .then((res) => Object.assign(res, { status: res.statusCode, text: res.body }) as Injected);
  return {
    config,
    secrets,
    dir,
    clock,
    /** Moves time forward and runs every service's housekeeping (expiry) at once. */
    async advance(ms: number) {
      clock.advance(ms);
      await system.backend!.sweep();
      await system.payserver!.sweep();
    },
    system,
    deviceToken,
    backend: system.backend!,
    payserver: system.payserver!,
    carrier: system.carrier!,
    /** Requests to the back-end as the demo TV. */
    tv: call(system.backend!.app, deviceToken),
    /** Requests to the back-end as a given device token (or none). */
    as: (token: string | undefined) => call(system.backend!.app, token),
    backendAdmin: call(system.backend!.app, secrets.adminToken),
    /** The walks' kit over these callers (the same kit the end-to-end tests use over HTTP). */
    walk: walk({
      tv: call(system.backend!.app, deviceToken),
      as: (token: string) => call(system.backend!.app, token),
      backendAdmin: call(system.backend!.app, secrets.adminToken),
      payAdmin: call(system.payserver!.app, secrets.adminToken),
      // Kannel and SMPP set-ups have no development carrier: a walk that reads a phone's SMS there is a mistake in the test.
      carrier: system.carrier
        ? call(system.carrier.app, undefined)
        : async () => assert.fail('this system has no development carrier'),
    }),
    payAdmin: call(system.payserver!.app, secrets.adminToken),
    payserverAs: (token: string | undefined) => call(system.payserver!.app, token),
    async close() {
      await system.close();
      rmSync(dir, { recursive: true, force: true });
      await pg?.drop();
    },
  };
}

export type TestSystem = Awaited<ReturnType<typeof testSystem>>;

/** One system for the tests of this file (or of the `describe` this is called in): booted before, closed after. */
export const suiteSystem = (...args: Parameters<typeof testSystem>): TestSystem =>
  perSuite(
    () => testSystem(...args),
    (sys) => sys.close(),
  );

/** A per-window limit (`TVPAY_LIMIT_…`) of the services, or the window they count in. */
type Limit =
  | 'PAYER_PER_PHONE'
  | 'PAYER_PER_DEVICE'
  | 'PAYER_PER_ACCOUNT'
  | 'PAYER_PER_PREFIX'
  | 'CODES_PER_PHONE'
  | 'CODES_PER_DEVICE'
  | 'CODE_CHECKS_PER_PHONE'
  | 'ORDERS_PER_DEVICE'
  | 'WINDOW_SECONDS';

/** The settings that put these limits at these values: a test of a limit makes it small enough to reach. */
export const limits = (values: Partial<Record<Limit, number>>): Record<string, string> =>
  Object.fromEntries(Object.entries(values).map(([limit, value]) => [`TVPAY_LIMIT_${limit}`, String(value)]));

/**
 * The settings that raise these limits to `to`: a file whose tests buy many times with the same phones and TVs
 * lifts the limits it would otherwise meet (the limits have tests of their own), and only those.
 */
export const lifted = (names: readonly Limit[], to = 1000): Record<string, string> =>
  limits(Object.fromEntries(names.map((limit) => [limit, to])));

/**
 * No money rail on: a phone without a wallet then ends its order at once (NO_ACCOUNT) instead of paying by a
 * rail, and no rail's SMS or scan comes into what a test counts.
 */
export const RAILS_OFF = { TVPAY_ALIPAY: 'off', TVPAY_WECHATPAY: 'off' };

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { sql } from 'kysely';
import { signRequest } from '../../src/lib/signing.ts';
import { testSystem, type TestSystem } from '../support/system.ts';

/**
 * Every route of the three services, from their OpenAPI documents plus the
 * hidden ones (signed internal calls, the checkout pages, the SMS gateway
 * callbacks, the development phone), fed with fast-check: valid-looking
 * bodies from the schemas and broken ones (wrong types, huge and tiny
 * numbers, deep nesting, unicode edge cases, duplicate headers), with valid,
 * missing and wrong credentials. Nothing may answer 5xx, a rejected request
 * may insert nothing, and every service is healthy afterwards.
 */
const CASES = Number(process.env.TVPAY_FUZZ_CASES ?? 10_000);

type Service = 'backend' | 'payserver' | 'carrier';
interface Route {
  service: Service;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  auth: 'admin' | 'device' | 'signed' | 'inbound' | 'none';
  body?: any;
  query?: any;
  form?: boolean;
}

/** Tables a rejected request must not add rows to (limit counters, nonces and idempotency records aside). */
const WATCHED: Record<Service, string[]> = {
  backend: ['orders', 'devices', 'products', 'entitlements', 'inbox', 'sms_messages', 'outbox'],
  payserver: [
    'accounts',
    'ledger_accounts',
    'holds',
    'journal_entries',
    'payments',
    'checkouts',
    'page_sessions',
    'sms_messages',
    'outbox',
  ],
  carrier: ['messages'],
};

const EDGE_STRINGS = [
  '',
  ' ',
  '\u0000',
  '\ud800',
  'a\udc00b',
  '🙂',
  '１３８００１３８０００',
  '13800138000',
  '+8613800138000',
  '8613600136000',
  "'; DROP TABLE orders; --",
  '<script>alert(1)</script>',
  '%00',
  '../../etc/passwd',
  'x'.repeat(5000),
  'CNY',
  'wallet',
  'card',
  'vip-year',
  '确认 123456',
];
const EDGE_NUMBERS = [0, -1, 1, 2 ** 31, 2 ** 53, -(2 ** 53), 1e308, -1e-308, 0.5, 100_000_000, 100_000_001];

/** Percent-encodes for a URL; a lone surrogate (which encodeURIComponent refuses) goes as its raw UTF-8 bytes. */
const safeEncode = (s: string) => {
  try {
    return encodeURIComponent(s);
  } catch {
    return '%ED%A0%80';
  }
};

const str = (max = 64) =>
  fc.oneof(
    fc.string({ maxLength: max }),
    fc.string({ unit: 'grapheme', maxLength: 20 }),
    fc.constantFrom(...EDGE_STRINGS),
  );
const num = () => fc.oneof(fc.integer(), fc.double(), fc.constantFrom(...EDGE_NUMBERS));

/** Values shaped by a JSON schema (as the OpenAPI document gives it), with edge cases mixed in. */
function fromSchema(s: any, depth = 0): fc.Arbitrary<unknown> {
  if (!s || depth > 4) return fc.jsonValue({ maxDepth: 2 });
  if (s.anyOf) return fc.oneof(...s.anyOf.map((x: any) => fromSchema(x, depth + 1)));
  if (s.enum) return fc.constantFrom(...s.enum);
  if (s.const !== undefined) return fc.constant(s.const);
  switch (s.type) {
    case 'string':
      return s.pattern === '^[0-9]{4}$' ? fc.oneof(fc.stringMatching(/^[0-9]{4}$/), str()) : str(s.maxLength ?? 64);
    case 'integer':
      return fc.oneof(fc.integer({ min: s.minimum ?? -1e9, max: s.maximum ?? 1e9 }), num());
    case 'number':
      return num();
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(fromSchema(s.items, depth + 1), { maxLength: 4 });
    case 'object': {
      const props: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, v] of Object.entries(s.properties ?? {})) props[k] = fromSchema(v, depth + 1);
      return fc.record(props, { requiredKeys: s.required ?? [] });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** A body: shaped by the schema, or broken in one of the ways a client gets it wrong. */
function bodyArb(schema: any): fc.Arbitrary<string | undefined> {
  const shaped = fromSchema(schema).map((v) => JSON.stringify(v));
  return fc.oneof(
    { weight: 5, arbitrary: shaped },
    {
      weight: 1,
      arbitrary: fromSchema(schema).map((v) => JSON.stringify(typeof v === 'object' && v ? { ...v, extra: 1 } : v)),
    },
    { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 3000 }).map((n) => `{"a":${'['.repeat(n)}${']'.repeat(n)}}`) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '',
        '{',
        '{"a":',
        'null',
        '[]',
        '"x"',
        '{"text":"hi\\ud800"}',
        '\u00ff\u00fe',
        '{"a":1}{"b":2}',
      ),
    },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}

function queryArb(schema: any): fc.Arbitrary<Record<string, string>> {
  const keys = Object.keys(schema?.properties ?? {});
  const value = fc.oneof(
    str(40),
    fc.integer().map(String),
    fc.constantFrom('13800138000', '%ED%A0%80', '1000', '-1', 'queued'),
  );
  return fc.dictionary(fc.oneof(fc.constantFrom(...(keys.length ? keys : ['x'])), fc.string({ maxLength: 8 })), value, {
    maxKeys: 4,
  });
}

describe('fuzzing every route', () => {
  let sys: TestSystem;
  const ids = { orders: [] as string[], tokens: [] as string[], accounts: [] as string[] };
  const routes: Route[] = [];
  const apps = (): Record<Service, FastifyInstance> => ({
    backend: sys.backend.app,
    payserver: sys.payserver.app,
    carrier: sys.carrier.app,
  });
  const dbs = (): Record<Service, any> => ({
    backend: sys.backend.db,
    payserver: sys.payserver.db,
    carrier: sys.carrier.db,
  });

  before(async () => {
    sys = await testSystem({
      TVPAY_LIMIT_PAYER_PER_PHONE: '1000000',
      TVPAY_LIMIT_PAYER_PER_DEVICE: '1000000',
      TVPAY_LIMIT_CODES_PER_PHONE: '1000000',
      TVPAY_LIMIT_CODES_PER_DEVICE: '1000000',
      TVPAY_LIMIT_PAYER_PER_ACCOUNT: '1000000',
      TVPAY_LIMIT_PAYER_PER_PREFIX: '1000000',
      TVPAY_LIMIT_ORDERS_PER_DEVICE: '1000000',
      TVPAY_LIMIT_CODE_CHECKS_PER_PHONE: '1000000',
    });
    // Some real things to aim at: orders (one waiting on the checkout page), an account.
    for (const phone of ['13600136000', '13800138000']) {
      const tv = sys.as(
        (
          await sys.backendAdmin('POST', '/admin/v1/devices', { name: `fuzz ${phone}`, accountId: `fuzz-${phone}` })
        ).json().token,
      );
      const orderId = (await tv('POST', '/v1/orders', { productId: 'kids-app' })).json().orderId;
      const order = (await tv('POST', `/v1/orders/${orderId}/payer`, { phone })).json();
      ids.orders.push(orderId);
      ids.tokens.push(String(order.payUrl).split('/pay/')[1]!);
    }
    ids.orders.push((await sys.tv('POST', '/v1/orders', { productId: 'vip-month' })).json().orderId);
    ids.accounts.push((await sys.payAdmin('GET', '/admin/v1/accounts?phone=13800138000')).json()[0].accountId);
    // Background work would change the stores between a request and its check.
    await sys.backend.worker.stop();
    await sys.payserver.worker.stop();

    for (const service of ['backend', 'payserver', 'carrier'] as const) {
      const doc = (await apps()[service].inject({ url: '/openapi.json' })).json();
      for (const [path, ops] of Object.entries<any>(doc.paths)) {
        for (const [method, op] of Object.entries<any>(ops)) {
          const fastifyPath = path.replace(/\{(\w+)\}/g, ':$1');
          if (fastifyPath.endsWith('/events')) continue; // a stream stays open; its 404s are fuzzed below
          const auth = fastifyPath.startsWith('/admin')
            ? 'admin'
            : service === 'backend' && fastifyPath.startsWith('/v1')
              ? 'device'
              : 'none';
          routes.push({
            service,
            method: method.toUpperCase() as Route['method'],
            path: fastifyPath,
            auth,
            body: op.requestBody?.content?.['application/json']?.schema,
            query: op.parameters
              ? {
                  properties: Object.fromEntries(
                    op.parameters.filter((p: any) => p.in === 'query').map((p: any) => [p.name, p.schema]),
                  ),
                }
              : undefined,
          });
        }
      }
    }
    const obj = (properties: Record<string, any>, required: string[]) => ({ type: 'object', properties, required });
    /**
     * Properties in the order named (the fixed seed's inputs follow it): `name` a string, `name:type` another JSON
     * type, and `special` for those described otherwise.
     */
    const fields = (names: string, special: Record<string, unknown> = {}) =>
      Object.fromEntries(
        names.split(' ').map((spec) => {
          const [name, type = 'string'] = spec.split(':') as [string, string?];
          return [name, special[name] ?? { type }];
        }),
      );
    /** A form posted to a page (no authentication but the page's own). */
    const formPost = (service: Service, path: string, body: unknown): Route => ({
      service,
      method: 'POST',
      path,
      auth: 'none',
      form: true,
      body,
    });
    /** A GET that takes a query string: its parameters by name, in order, each of any value. */
    const queryGet = (service: Service, path: string, auth: Route['auth'], names: string): Route => ({
      service,
      method: 'GET',
      path,
      auth,
      query: { properties: Object.fromEntries(names.split(' ').map((name) => [name, {}])) },
    });
    const PAYMENT_MODE = { mode: { enum: ['sms_confirm', 'wap_link'] } };
    routes.push(
      { service: 'backend', method: 'GET', path: '/v1/orders/:orderId/events', auth: 'device' },
      {
        service: 'payserver',
        method: 'POST',
        path: '/internal/v1/bindings/lookup',
        auth: 'signed',
        body: obj({ phone: { type: 'string' } }, ['phone']),
      },
      {
        service: 'payserver',
        method: 'POST',
        path: '/internal/v1/payments',
        auth: 'signed',
        body: obj(
          {
            ...fields('orderId attempt:integer mode phone amountMinor:integer currency', PAYMENT_MODE),
            ...fields('productTitle payee linkToken deviceId expiresAt'),
          },
          ['orderId', 'attempt', 'mode', 'phone', 'amountMinor', 'currency'],
        ),
      },
      { service: 'payserver', method: 'POST', path: '/internal/v1/orders/:orderId/close', auth: 'signed' },
      {
        service: 'payserver',
        method: 'POST',
        path: '/internal/v1/sms/of-orders',
        auth: 'signed',
        body: obj({ orderIds: { type: 'array', items: { type: 'string' } } }, ['orderIds']),
      },
      {
        service: 'backend',
        method: 'POST',
        path: '/internal/v1/payment-events',
        auth: 'signed',
        body: obj(
          fields('messageId type orderId attempt:integer paymentId amountMinor:integer currency failureCode at', {
            type: { enum: ['payment.completed', 'payment.failed'] },
          }),
          ['messageId', 'type', 'orderId'],
        ),
      },
      { service: 'payserver', method: 'GET', path: '/pay/:token', auth: 'none' },
      { service: 'payserver', method: 'POST', path: '/pay/:token/code', auth: 'none', form: true },
      {
        service: 'payserver',
        method: 'POST',
        path: '/pay/:token/verify',
        auth: 'none',
        form: true,
        body: obj({ session: { type: 'string' }, code: { type: 'string' } }, ['session', 'code']),
      },
      {
        service: 'payserver',
        method: 'POST',
        path: '/pay/:token/pay',
        auth: 'none',
        form: true,
        body: obj({ grant: { type: 'string' }, source: { enum: ['wallet', 'card'] }, quickPay: { enum: ['yes'] } }, [
          'grant',
          'source',
        ]),
      },
      queryGet('payserver', '/v1/sms/inbound', 'inbound', 'from to text'),
      queryGet('payserver', '/v1/sms/dlr', 'inbound', 'id status'),
      formPost('backend', '/console/sign-in', obj({ token: { type: 'string' } }, ['token'])),
      queryGet('backend', '/console/orders', 'none', 'q status from to cursor'),
      { service: 'backend', method: 'GET', path: '/console/orders/:orderId', auth: 'none' },
      formPost('backend', '/console/orders/:orderId/refund', obj(fields('amount reason key'), ['amount'])),
      formPost('payserver', '/console/sign-in', obj({ token: { type: 'string' } }, ['token'])),
      queryGet('payserver', '/console/accounts', 'none', 'q'),
      { service: 'carrier', method: 'GET', path: '/dev/phones/:digits', auth: 'none' },
      formPost('carrier', '/dev/phones/:digits/reply', obj({ text: { type: 'string' } }, ['text'])),
      queryGet('carrier', '/cgi-bin/sendsms', 'none', 'username password from to text'),
    );
  });
  after(() => sys?.close());

  const counts = async (service: Service) => {
    const db = dbs()[service];
    const parts = WATCHED[service].map((t) => `(SELECT count(*) FROM ${t})`).join(', ');
    const { rows } = await sql.raw(`SELECT ${parts}`).execute(db);
    return JSON.stringify(Object.values(rows[0] as object));
  };

  const param = (name: string) => {
    const known =
      name === 'orderId'
        ? ids.orders
        : name === 'token'
          ? ids.tokens
          : name === 'accountId'
            ? ids.accounts
            : name === 'digits'
              ? ['8613800138000', '8613600136000']
              : name === 'productId'
                ? ['vip-year', 'fuzz-product']
                : ['x'];
    return fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...known) },
      { weight: 1, arbitrary: str(80).map(safeEncode) },
    );
  };

  it(`answers ${CASES} generated requests across the three services without a 5xx, storing nothing for a rejected one`, async (t) => {
    const caseArb = (route: Route) =>
      fc.record({
        params: fc.tuple(...(route.path.match(/:(\w+)/g) ?? [':none']).map((p) => param(p.slice(1)))),
        body: route.form
          ? fromSchema(route.body ?? { type: 'object', properties: {} }).map((v) =>
              v && typeof v === 'object'
                ? new URLSearchParams(Object.entries(v).map(([k, x]) => [k, String(x)])).toString()
                : String(v),
            )
          : bodyArb(route.body),
        query: queryArb(route.query),
        credential: fc.constantFrom('valid', 'valid', 'valid', 'missing', 'wrong'),
        idempotencyKey: fc.oneof(
          fc.constant(undefined),
          fc.string({ maxLength: 300 }),
          fc.constant(['dup-a', 'dup-b']),
        ),
        contentType: fc.constantFrom(
          'application/json',
          'application/json',
          'text/plain',
          'application/x-www-form-urlencoded',
          undefined,
        ),
      });
    const perRoute = Math.max(1, Math.ceil(CASES / routes.length));
    let total = 0;
    const seen5xx: string[] = [];
    const statuses = new Map<number, number>();
    for (const route of routes) {
      await fc.assert(
        fc.asyncProperty(caseArb(route), async (c) => {
          total++;
          let i = 0;
          const path = route.path.replace(/:(\w+)/g, () => String(c.params[i++]));
          const query =
            route.auth === 'inbound'
              ? { ...c.query, token: c.credential === 'valid' ? sys.secrets.smsInboundToken : 'wrong-token' }
              : c.query;
          const qs = new URLSearchParams(query).toString();
          const url = `${path}${qs ? `?${qs}` : ''}`;
          const headers: Record<string, string | string[]> = {};
          const token =
            route.auth === 'admin' ? sys.secrets.adminToken : route.auth === 'device' ? sys.deviceToken : undefined;
          if (token && c.credential !== 'missing')
            headers.authorization = `Bearer ${c.credential === 'valid' ? token : `${token}x`}`;
          if (c.idempotencyKey !== undefined) headers['idempotency-key'] = c.idempotencyKey as string | string[];
          const withBody = route.method !== 'GET' && c.body !== undefined;
          if (withBody)
            headers['content-type'] =
              route.form && c.contentType === 'application/json'
                ? 'application/x-www-form-urlencoded'
                : (c.contentType ?? 'application/json');
          if (route.auth === 'signed' && c.credential !== 'missing') {
            const signed = signRequest(
              c.credential === 'valid' ? sys.secrets.serviceSecret : 'a-wrong-secret-of-16+',
              route.method,
              url,
              withBody ? c.body! : '',
              new Date(),
              `fz${Math.random().toString(36).slice(2)}${total}`.padEnd(16, '0'),
            );
            Object.assign(headers, signed);
          }
          const before = await counts(route.service);
          const res = await apps()[route.service].inject({
            method: route.method,
            url,
            headers,
            ...(withBody ? { payload: c.body } : {}),
          } as InjectOptions);
          statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
          if (res.statusCode >= 500) seen5xx.push(`${route.method} ${url} ${res.statusCode} ${res.body.slice(0, 200)}`);
          assert.ok(
            res.statusCode < 500,
            `${route.method} ${url} answered ${res.statusCode}: ${res.body.slice(0, 300)}`,
          );
          if (res.statusCode >= 400)
            assert.equal(
              await counts(route.service),
              before,
              `${route.method} ${url} was refused (${res.statusCode}) but stored something`,
            );
        }),
        { numRuns: perRoute, seed: Number(process.env.TVPAY_FUZZ_SEED ?? 20261201), endOnFailure: true },
      );
    }
    t.diagnostic(
      `${total} cases over ${routes.length} routes; answers: ${[...statuses]
        .sort((a, b) => a[0] - b[0])
        .map(([k, v]) => `${k}×${v}`)
        .join(' ')}`,
    );
    assert.ok(
      [...statuses.keys()].some((s) => s < 300),
      'some generated requests were accepted',
    );
    assert.deepEqual(seen5xx, []);
    assert.ok(total >= CASES, `${total} cases`);
    for (const app of Object.values(apps())) assert.equal((await app.inject({ url: '/healthz' })).statusCode, 200);
  });
});

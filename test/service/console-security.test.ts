import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { sha256 } from '../../src/lib/ids.ts';
import { testSystem, type TestSystem } from '../support/system.ts';

/** A console's browser: its cookies, what it sends, and what the console's pages carry. */
interface Visitor {
  cookie: string;
  token: string;
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const tokenIn = (page: string) => /name="formToken" value="([^"]+)"/.exec(page)?.[1];

/** Signs into a console as a browser on its own page would, and reads the anti-forgery token of a page. */
async function signIn(app: FastifyInstance, origin: string, adminToken: string, name: string): Promise<Visitor> {
  const res = await app.inject({
    method: 'POST',
    url: '/console/sign-in',
    headers: { ...FORM, origin },
    payload: form({ token: adminToken }),
  });
  assert.equal(res.statusCode, 303, `signed in: ${res.body.slice(0, 200)}`);
  const set = res.cookies.find((c) => c.name === name);
  assert.ok(set, `a cookie named ${name}`);
  const cookie = `${name}=${set.value}`;
  // Every page has a form that posts (sign-out, in the header).
  const page = await app.inject({ method: 'GET', url: '/console/', headers: { cookie } });
  assert.equal(page.statusCode, 303);
  const first = await app.inject({ method: 'GET', url: String(page.headers.location), headers: { cookie } });
  const token = tokenIn(first.body);
  assert.ok(token, 'the page carries the anti-forgery token');
  return { cookie, token };
}

let sys: TestSystem;
let backendOrigin: string;
let payOrigin: string;
let orderId: string;
before(async () => {
  sys = await testSystem();
  backendOrigin = sys.config.publicUrls.backend;
  payOrigin = sys.config.publicUrls.payserver;
  orderId = await sys.walk.order('kids-app');
  const seen = (await sys.walk.inbox('8613800138000')).length;
  await sys.walk.payer(orderId, '13800138000');
  await sys.walk.reply('8613800138000', await sys.walk.latestCode('8613800138000', seen));
  await sys.walk.until(orderId, 'fulfilled');
});
after(() => sys?.close());

describe("the back-end console refuses every state-changing request that is not its own page's", () => {
  let victim: Visitor;
  let deviceId: string;
  const post = (
    path: string,
    fields: Record<string, string>,
    headers: Record<string, string>,
    cookie = victim.cookie,
  ) =>
    sys.backend.app.inject({
      method: 'POST',
      url: path,
      headers: { ...FORM, cookie, ...headers },
      payload: form(fields),
    });
  const json = async (url: string) => (await sys.backendAdmin('GET', url)).json();

  /** The 7 actions, each with what it would change (read back through the admin API). */
  const actions = (): Array<{
    name: string;
    path: string;
    fields: Record<string, string>;
    state: () => Promise<string>;
  }> => [
    {
      name: 'product save',
      path: '/console/products',
      fields: {
        productId: 'one-fen',
        title: 'One fen',
        description: '',
        amount: '0.01',
        currency: 'CNY',
        service: 'vod',
        durationDays: '1',
        renews: 'no',
      },
      state: async () =>
        JSON.stringify((await json('/admin/v1/products')).map((p: { productId: string }) => p.productId)),
    },
    {
      name: 'product retire',
      path: '/console/products/kids-app/retire',
      fields: {},
      state: async () =>
        JSON.stringify((await json('/admin/v1/products')).map((p: { retiredAt: string | null }) => p.retiredAt)),
    },
    {
      name: 'device provision',
      path: '/console/devices',
      fields: { name: 'forged tv', accountId: 'acct-forged' },
      state: async () => String((await json('/admin/v1/devices')).length),
    },
    {
      name: 'device revoke',
      path: `/console/devices/${deviceId}/revoke`,
      fields: {},
      state: async () =>
        JSON.stringify((await json('/admin/v1/devices')).map((d: { revokedAt: string | null }) => d.revokedAt)),
    },
    {
      name: 'refund',
      path: `/console/orders/${orderId}/refund`,
      fields: { amount: '1.00', reason: 'forged', key: 'forged-refund' },
      state: async () => JSON.stringify(await json(`/admin/v1/orders/${orderId}/refunds`)),
    },
    {
      name: 'reconciliation',
      path: '/console/reconciliation',
      fields: { date: '2026-12-01', key: 'forged-reconciliation' },
      state: async () => JSON.stringify(await json('/admin/v1/reconciliations')),
    },
    {
      name: 'sign-out',
      path: '/console/sign-out',
      fields: {},
      state: async () =>
        String(
          (await sys.backend.app.inject({ url: '/console/orders', headers: { cookie: victim.cookie } })).statusCode,
        ),
    },
  ];

  before(async () => {
    victim = await signIn(sys.backend.app, backendOrigin, sys.secrets.adminToken, 'tvpay_backend_console');
    const made = await sys.backendAdmin('POST', '/admin/v1/devices', { name: 'victim tv', accountId: 'acct-victim' });
    deviceId = made.json().deviceId;
  });

  it('answers 403 and changes nothing for each of the 7 actions posted with a cross-site or same-site foreign Origin, token and cookie included', async () => {
    const foreign = ['https://pay.example.com', `http://127.0.0.1:${Number(new URL(backendOrigin).port) + 1}`, 'null'];
    for (const a of actions()) {
      for (const origin of foreign) {
        const before = await a.state();
        const res = await post(a.path, { ...a.fields, formToken: victim.token }, { origin });
        assert.equal(res.statusCode, 403, `${a.name} from ${origin}`);
        assert.equal(res.json().code, 'CONSOLE_FORM_REFUSED');
        assert.match(res.json().detail, /Origin/);
        assert.equal(await a.state(), before, `${a.name} from ${origin} changed nothing`);
      }
    }
  });

  it('answers 403 and changes nothing for each of the 7 actions from its own origin without the token, or with another session’s', async () => {
    const other = await signIn(sys.backend.app, backendOrigin, sys.secrets.adminToken, 'tvpay_backend_console');
    for (const a of actions()) {
      for (const token of [undefined, '', other.token, victim.token.slice(1)]) {
        const before = await a.state();
        const fields = token === undefined ? a.fields : { ...a.fields, formToken: token };
        const res = await post(a.path, fields, { origin: backendOrigin });
        assert.equal(res.statusCode, 403, `${a.name} with token ${JSON.stringify(token)}`);
        assert.match(res.json().detail, /anti-forgery token/);
        assert.equal(await a.state(), before, `${a.name} changed nothing`);
      }
    }
  });

  it('without an Origin, judges by Sec-Fetch-Site, then by Referer, and refuses a request that says neither', async () => {
    const a = actions()[2]!;
    const before = await a.state();
    const fields = { ...a.fields, formToken: victim.token };
    for (const headers of [
      { 'sec-fetch-site': 'same-site' } as Record<string, string>,
      { 'sec-fetch-site': 'cross-site' },
      { referer: 'https://pay.example.com/attack.html' },
      { referer: `http://127.0.0.1:1/console/devices` },
      { origin: 'null', 'sec-fetch-site': 'same-site' },
      { origin: 'null', referer: `${backendOrigin}/console/devices` },
      {},
    ])
      assert.equal((await post(a.path, fields, headers)).statusCode, 403, JSON.stringify(headers));
    assert.equal(await a.state(), before);
    assert.equal((await post(a.path, fields, { 'sec-fetch-site': 'same-origin' })).statusCode, 200);
    assert.equal(
      (await post(a.path, { ...fields, name: 'tv by referer' }, { referer: `${backendOrigin}/console/devices` }))
        .statusCode,
      200,
    );
    // Chromium's form post from a page whose Referrer-Policy is no-referrer (the consoles').
    const nulled = { origin: 'null', 'sec-fetch-site': 'same-origin' };
    assert.equal((await post(a.path, { ...fields, name: 'tv by null' }, nulled)).statusCode, 200);
    assert.equal(Number(await a.state()), Number(before) + 3, 'its own page provisions');
  });

  it('does each of the 7 actions when its own page posts it with the token (so the refusals above are not the only answer)', async () => {
    for (const a of actions()) {
      const before = await a.state();
      const res = await post(a.path, { ...a.fields, formToken: victim.token }, { origin: backendOrigin });
      assert.ok(res.statusCode === 303 || res.statusCode === 200, `${a.name}: ${res.statusCode} ${res.body}`);
      assert.ok(!/error=/.test(String(res.headers.location ?? '')), `${a.name}: ${res.headers.location}`);
      assert.notEqual(await a.state(), before, `${a.name} changed something`);
    }
  });

  it('puts the session’s token in every form that posts, and in none that gets', async () => {
    const me = await signIn(sys.backend.app, backendOrigin, sys.secrets.adminToken, 'tvpay_backend_console');
    for (const path of [
      '/console/products',
      '/console/devices',
      '/console/reconciliation',
      `/console/orders/${orderId}`,
    ]) {
      const page = (await sys.backend.app.inject({ url: path, headers: { cookie: me.cookie } })).body;
      const posts = page.match(/<form\b[^>]*method="post"[^>]*>/g) ?? [];
      const tokens = page.match(/<input type="hidden" name="formToken" value="[^"]+">/g) ?? [];
      assert.ok(posts.length >= 1, 'posts.length >= 1');
      assert.equal(tokens.length, posts.length, `${path}: one token per posting form`);
      assert.ok(
        tokens.every((t) => t.includes(me.token)),
        'tokens.every((t) => t.includes(me.token))',
      );
    }
  });
});

describe('console sessions', () => {
  const page = (app: FastifyInstance, url: string, cookie: string) => app.inject({ url, headers: { cookie } });

  it('keeps only a hash of the session id, and signing out ends the session: the old cookie goes to the sign-in', async () => {
    const me = await signIn(sys.backend.app, backendOrigin, sys.secrets.adminToken, 'tvpay_backend_console');
    const id = decodeURIComponent(me.cookie.split('=')[1]!);
    const rows = await sys.backend.db
      .selectFrom('console_sessions' as never)
      .selectAll()
      .execute();
    const hashes = rows.map((r) => (r as { id_hash: string }).id_hash);
    assert.ok(hashes.includes(sha256(id)), 'the hash is stored');
    assert.ok(!JSON.stringify(rows).includes(id), 'the id is not');
    assert.equal((await page(sys.backend.app, '/console/orders', me.cookie)).statusCode, 200);
    const out = await sys.backend.app.inject({
      method: 'POST',
      url: '/console/sign-out',
      headers: { ...FORM, cookie: me.cookie, origin: backendOrigin },
      payload: form({ formToken: me.token }),
    });
    assert.equal(out.statusCode, 303);
    const again = await page(sys.backend.app, '/console/orders', me.cookie);
    assert.equal(again.statusCode, 303);
    assert.equal(again.headers.location, '/console/sign-in');
  });

  it('ends a session when it expires, 8 hours after sign-in', async () => {
    const me = await signIn(sys.backend.app, backendOrigin, sys.secrets.adminToken, 'tvpay_backend_console');
    sys.clock.advance(8 * 3600 * 1000 - 1000);
    assert.equal((await page(sys.backend.app, '/console/orders', me.cookie)).statusCode, 200);
    sys.clock.advance(2000);
    assert.equal((await page(sys.backend.app, '/console/orders', me.cookie)).headers.location, '/console/sign-in');
  });

  it("keeps the two consoles apart: each its own cookie, one's cookie does not open the other, and signing out of one leaves the other", async () => {
    const tv = await signIn(sys.backend.app, backendOrigin, sys.secrets.adminToken, 'tvpay_backend_console');
    const pay = await signIn(sys.payserver.app, payOrigin, sys.secrets.adminToken, 'tvpay_payserver_console');
    const tvValue = tv.cookie.split('=')[1]!;
    for (const cookie of [tv.cookie, `tvpay_payserver_console=${tvValue}`])
      assert.equal((await page(sys.payserver.app, '/console/accounts', cookie)).headers.location, '/console/sign-in');
    const out = await sys.backend.app.inject({
      method: 'POST',
      url: '/console/sign-out',
      headers: { ...FORM, cookie: `${tv.cookie}; ${pay.cookie}`, origin: backendOrigin },
      payload: form({ formToken: tv.token }),
    });
    assert.equal(out.statusCode, 303);
    assert.ok(
      out.cookies.every((c) => c.name !== 'tvpay_payserver_console'),
      "the back-end's sign-out does not touch the payment server's cookie",
    );
    assert.equal((await page(sys.payserver.app, '/console/accounts', pay.cookie)).statusCode, 200);
    assert.equal((await page(sys.backend.app, '/console/orders', tv.cookie)).headers.location, '/console/sign-in');
  });

  it('throttles wrong sign-ins per address: 429 with Retry-After past the limit, the right token included, other addresses unaffected', async () => {
    const attempt = (token: string, remoteAddress: string) =>
      sys.payserver.app.inject({
        method: 'POST',
        url: '/console/sign-in',
        remoteAddress,
        headers: { ...FORM, origin: payOrigin },
        payload: form({ token }),
      });
    for (let i = 0; i < 10; i++) assert.equal((await attempt(`wrong-${i}`, '203.0.113.7')).statusCode, 401);
    const refused = await attempt('wrong-again', '203.0.113.7');
    assert.equal(refused.statusCode, 429);
    assert.ok(Number(refused.headers['retry-after']) >= 1, "Number(refused.headers['retry-after']) >= 1");
    const right = await attempt(sys.secrets.adminToken, '203.0.113.7');
    assert.equal(right.statusCode, 429, 'the right token waits too');
    assert.equal(right.cookies.length, 0, 'and gets no session');
    assert.equal((await attempt(sys.secrets.adminToken, '203.0.113.8')).statusCode, 303);
  });

  it('refuses a sign-in posted from another origin', async () => {
    const res = await sys.backend.app.inject({
      method: 'POST',
      url: '/console/sign-in',
      headers: { ...FORM, origin: 'https://pay.example.com' },
      payload: form({ token: sys.secrets.adminToken }),
    });
    assert.equal(res.statusCode, 403);
    assert.equal(res.cookies.length, 0);
  });
});

describe('console cookies behind a TLS proxy', () => {
  let proxied: TestSystem;
  before(async () => {
    proxied = await testSystem({ TVPAY_TRUST_PROXY: '1', TVPAY_BACKEND_PUBLIC_URL: 'https://tv.example.com' });
  });
  after(() => proxied?.close());
  const signInVia = (app: FastifyInstance, proto: string, origin: string, token = proxied.secrets.adminToken) =>
    app.inject({
      method: 'POST',
      url: '/console/sign-in',
      headers: { ...FORM, origin, 'x-forwarded-proto': proto, 'x-forwarded-host': 'tv.example.com' },
      payload: form({ token }),
    });

  it('marks the cookie Secure when TVPAY_TRUST_PROXY is set and the proxy says https', async () => {
    const res = await signInVia(proxied.backend.app, 'https', 'https://tv.example.com');
    assert.equal(res.statusCode, 303);
    const [cookie] = res.cookies.filter((c) => c.name === 'tvpay_backend_console');
    assert.equal(cookie?.secure, true);
    assert.equal(cookie?.httpOnly, true);
    assert.equal(cookie?.sameSite, 'Strict');
  });

  it("counts wrong sign-ins by the client's address the proxy forwards, and believes no forwarded address without the proxy setting", async () => {
    const attempt = (system: TestSystem, origin: string, forwardedFor: string) =>
      system.backend.app.inject({
        method: 'POST',
        url: '/console/sign-in',
        remoteAddress: '192.0.2.50',
        headers: { ...FORM, origin, 'x-forwarded-for': forwardedFor },
        payload: form({ token: 'not-the-token' }),
      });
    for (let i = 0; i < 10; i++)
      assert.equal((await attempt(proxied, 'https://tv.example.com', '198.51.100.1')).statusCode, 401);
    assert.equal((await attempt(proxied, 'https://tv.example.com', '198.51.100.1')).statusCode, 429);
    assert.equal((await attempt(proxied, 'https://tv.example.com', '198.51.100.2')).statusCode, 401, 'another client');
    // Without TVPAY_TRUST_PROXY a client cannot dodge the limit by writing a new X-Forwarded-For each time.
    for (let i = 0; i < 10; i++)
      assert.equal((await attempt(sys, backendOrigin, `198.51.100.${i + 10}`)).statusCode, 401);
    assert.equal((await attempt(sys, backendOrigin, '198.51.100.99')).statusCode, 429);
  });

  it('believes no X-Forwarded-Proto without TVPAY_TRUST_PROXY (the cookie of plain http is not Secure)', async () => {
    const res = await signInVia(sys.backend.app, 'https', backendOrigin, sys.secrets.adminToken);
    assert.equal(res.statusCode, 303);
    const [cookie] = res.cookies.filter((c) => c.name === 'tvpay_backend_console');
    assert.ok(cookie, 'cookie');
    assert.notEqual(cookie.secure, true);
  });
});

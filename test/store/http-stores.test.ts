import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import Fastify from 'fastify';
import type { Kysely } from 'kysely';
import { ManualClock } from '../../src/lib/clock.ts';
import type { CommonTables } from '../../src/lib/db/common-tables.ts';
import { idempotencyHooks } from '../../src/lib/http/idempotency.ts';
import { errorHandler } from '../../src/lib/http/problem.ts';
import { inProcessTransport, type PeerTransport } from '../../src/lib/http/peer-transport.ts';
import { PeerError, pruneNonces, requireServiceSignature, SignedClient } from '../../src/lib/http/service-auth.ts';
import { signRequest } from '../../src/lib/signing.ts';
import { sha256 } from '../../src/lib/ids.ts';
import type { PayserverTables } from '../../src/payserver/schema.ts';
import { payserverMigrations } from '../../src/payserver/migrations/index.ts';
import { DIALECTS, freshStore, skipFor } from './dialects.ts';

for (const dialect of DIALECTS) {
  const skip = await skipFor(dialect);

  describe(`idempotency keys and signature nonces on ${dialect}`, { skip }, () => {
    const kit = async (t: TestContext) => {
      const store = await freshStore<PayserverTables>(dialect, payserverMigrations, 10, t);
      const common = store.db as unknown as Kysely<CommonTables>;
      const clock = new ManualClock(Date.now());
      const app = Fastify();
      app.setErrorHandler(errorHandler);
      let created = 0;
      const hooks = idempotencyHooks(common, clock);
      app.addHook('onRequest', async (request) => {
        request.principal = String(request.headers['x-who'] ?? 'a');
      });
      app.addHook('preHandler', hooks.preHandler);
      app.addHook('onSend', hooks.onSend);
      app.post('/things', async (request, reply) => {
        await new Promise((r) => setTimeout(r, 30));
        return reply.code(201).send({ n: ++created, body: request.body });
      });
      app.post(
        '/signed',
        { preHandler: requireServiceSignature(common, 'a-shared-secret-for-tests', clock) },
        async () => ({ ok: true }),
      );
      app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
        request.rawBody = Buffer.from(body as string);
        done(null, JSON.parse(body as string));
      });
      return { ...store, common, clock, app, created: () => created };
    };

    it('releases a key left running by a crash after its timeout, so the retry runs', async (t) => {
      const k = await kit(t);
      await k.common
        .insertInto('idempotency_keys')
        .values({
          scope: 'a /things {}',
          idem_key: 'crashed',
          request_hash: sha256(JSON.stringify({ n: 1 })),
          state: 'running',
          response_status: null,
          response_body: null,
          created_at: k.clock.now().toISOString(),
        })
        .execute();
      const post = () =>
        k.app.inject({
          method: 'POST',
          url: '/things',
          payload: { n: 1 },
          headers: { 'idempotency-key': 'crashed', 'x-who': 'a' },
        });
      assert.equal((await post()).statusCode, 409, 'still running: 409');
      k.clock.advance(61_000);
      assert.equal((await post()).statusCode, 201, 'after the timeout the retry runs');
      await k.dispose();
    });

    it('prunes delivered outbox messages, old SMS records, idempotency keys and page sessions after their retention, and nothing newer', async (t) => {
      const k = await kit(t);
      const old = new Date(k.clock.now().getTime() - 40 * 86_400_000).toISOString();
      const fresh = k.clock.now().toISOString();
      for (const [id, status, at] of [
        ['o1', 'done', old],
        ['o2', 'pending', old],
        ['o3', 'done', fresh],
      ] as const) {
        await k.common
          .insertInto('outbox')
          .values({
            id,
            topic: 't',
            payload: '{}',
            status,
            attempts: 0,
            next_attempt_at: at,
            locked_until: null,
            last_error: null,
            created_at: at,
            done_at: null,
          })
          .execute();
      }
      for (const [id, at] of [
        ['s1', old],
        ['s2', fresh],
      ] as const) {
        await k.common
          .insertInto('sms_messages')
          .values({
            id,
            kind: 'code',
            ref: null,
            gateway_id: null,
            to_phone: '+8613800138000',
            sender: '1',
            status: 'delivered',
            created_at: at,
            updated_at: at,
          })
          .execute();
      }
      await k.common
        .insertInto('idempotency_keys')
        .values({
          scope: 's',
          idem_key: 'old',
          request_hash: 'x',
          state: 'done',
          response_status: 200,
          response_body: '{}',
          created_at: old,
        })
        .execute();
      const { pruneExpired } = await import('../../src/lib/db/retention.ts');
      await pruneExpired(
        k.common,
        k.clock,
        { recordsDays: 30, idempotencyHours: 24, idempotencyRunningSeconds: 60 },
        [],
      );
      assert.deepEqual(
        (await k.common.selectFrom('outbox').select('id').orderBy('id').execute()).map((r) => r.id),
        ['o2', 'o3'],
        'a pending message is never pruned',
      );
      assert.deepEqual(
        (await k.common.selectFrom('sms_messages').select('id').execute()).map((r) => r.id),
        ['s2'],
      );
      assert.equal(
        (await k.common.selectFrom('idempotency_keys').selectAll().where('idem_key', '=', 'old').execute()).length,
        0,
      );
      await k.dispose();
    });

    it('replays the first answer for the same key and body, refuses another body, and keeps callers apart', async (t) => {
      const k = await kit(t);
      const post = (payload: object, key: string, who = 'a') =>
        k.app.inject({ method: 'POST', url: '/things', payload, headers: { 'idempotency-key': key, 'x-who': who } });
      const first = await post({ x: 1 }, 'k1');
      const again = await post({ x: 1 }, 'k1');
      assert.equal(first.statusCode, 201);
      assert.equal(again.statusCode, 201);
      assert.equal(again.body, first.body);
      assert.equal(again.headers['idempotent-replayed'], 'true');
      assert.equal((await post({ x: 2 }, 'k1')).statusCode, 422);
      assert.equal((await post({ x: 1 }, 'k1', 'b')).json().n, 2, 'another caller has its own keys');
      assert.equal(k.created(), 2);
      await k.app.close();
      await k.dispose();
    });

    it('runs a key once when the same request races, answering the others 409 or the replay', async (t) => {
      const k = await kit(t);
      const answers = await Promise.all(
        Array.from({ length: 5 }, () =>
          k.app.inject({ method: 'POST', url: '/things', payload: { x: 1 }, headers: { 'idempotency-key': 'race' } }),
        ),
      );
      assert.equal(k.created(), 1);
      for (const a of answers) assert.ok(a.statusCode === 201 || a.statusCode === 409, String(a.statusCode));
      await k.app.close();
      await k.dispose();
    });

    it('accepts a signed message once and refuses its replay; old nonces are pruned', async (t) => {
      const k = await kit(t);
      const body = '{"a":1}';
      const headers = {
        'content-type': 'application/json',
        ...signRequest('a-shared-secret-for-tests', 'POST', '/signed', body, k.clock.now(), 'nonce-store-000001'),
      };
      assert.equal((await k.app.inject({ method: 'POST', url: '/signed', payload: body, headers })).statusCode, 200);
      assert.equal((await k.app.inject({ method: 'POST', url: '/signed', payload: body, headers })).statusCode, 401);
      k.clock.advance(11 * 60 * 1000);
      await pruneNonces(k.common, k.clock);
      assert.deepEqual(await k.common.selectFrom('seen_nonces').selectAll().execute(), []);
      await k.app.close();
      await k.dispose();
    });

    it('hands a signed message to a peer in the same process through the same checks, and over the fallback until the peer is there', async (t) => {
      const k = await kit(t);
      const peer: { app?: typeof k.app } = {};
      const overHttp: string[] = [];
      const fallback: PeerTransport = async (request) => {
        overHttp.push(request.path);
        return { status: 503, ok: false, text: '{"code":"NOT_READY"}' };
      };
      const client = new SignedClient(
        inProcessTransport(() => peer.app, fallback),
        'a-shared-secret-for-tests',
        k.clock,
      );
      await assert.rejects(
        client.post('/signed', { a: 1 }),
        (err: PeerError) => err.status === 503,
        'no peer here yet: the fallback',
      );
      assert.deepEqual(overHttp, ['/signed']);
      peer.app = k.app;
      assert.deepEqual(await client.post('/signed', { a: 1 }), { ok: true });
      assert.equal(
        (await k.common.selectFrom('seen_nonces').selectAll().execute()).length,
        1,
        'the peer checked and recorded its nonce',
      );
      const forged = new SignedClient(
        inProcessTransport(() => peer.app, fallback),
        'another-secret',
        k.clock,
      );
      await assert.rejects(forged.post('/signed', { a: 1 }), (err: PeerError) => err.status === 401 && err.permanent);
      assert.deepEqual(overHttp, ['/signed'], 'nothing more went over HTTP');
      await k.app.close();
      await k.dispose();
    });

    it('gives up on a peer in the same process that does not answer in time', async (t) => {
      const k = await kit(t);
      k.app.post('/slow', async () => new Promise(() => {}));
      const client = new SignedClient(
        inProcessTransport(
          () => k.app,
          () => assert.fail('the peer is here'),
        ),
        'a-shared-secret-for-tests',
        k.clock,
        50,
      );
      await assert.rejects(client.post('/slow', {}), /did not answer within 50 ms/);
      await k.app.close().catch(() => undefined);
      await k.dispose();
    });
  });
}

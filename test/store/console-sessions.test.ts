import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backendMigrations } from '../../src/backend/migrations/index.ts';
import {
  ConsoleSessions,
  formToken,
  formTokenMatches,
  SESSION_SECONDS,
} from '../../src/lib/console/console-session.ts';
import { sha256 } from '../../src/lib/ids.ts';
import { payserverMigrations } from '../../src/payserver/migrations/index.ts';
import { DIALECTS, freshStore, skipFor } from './dialects.ts';

for (const dialect of DIALECTS) {
  describe(`console sessions on ${dialect}`, { skip: await skipFor(dialect) }, () => {
    const start = new Date('2026-12-06T12:00:00.000Z');
    const later = (s: number) => new Date(start.getTime() + s * 1000);
    let n = 0;
    const ids = () => `session-id-${++n}-${'x'.repeat(32)}`;

    for (const [service, migrations] of [
      ['back-end', backendMigrations],
      ['payment server', payserverMigrations],
    ] as const) {
      it(`keeps a ${service} session only as a hash, valid until it expires or ends`, async (t) => {
        const store = await freshStore<any>(dialect, migrations, 4, t);
        const sessions = new ConsoleSessions(store.db, ids);
        const id = await sessions.begin(start);
        const rows = await store.db.selectFrom('console_sessions').selectAll().execute();
        assert.deepEqual(
          rows.map((r) => String(r.id_hash)),
          [sha256(id)],
        );
        assert.ok(!JSON.stringify(rows).includes(id), 'the id itself is not stored');
        assert.equal(await sessions.valid(id, later(SESSION_SECONDS - 1)), true);
        assert.equal(await sessions.valid(id, later(SESSION_SECONDS)), false, 'expired');
        assert.equal(await sessions.valid(`${id}x`, start), false, 'another id');
        assert.equal(await sessions.valid(undefined, start), false);
        const other = await sessions.begin(start);
        await sessions.end(id);
        assert.equal(await sessions.valid(id, start), false, 'ended by sign-out');
        assert.equal(await sessions.valid(other, start), true, 'another session goes on');
      });
    }

    it('drops expired sessions when a new one begins', async (t) => {
      const store = await freshStore<any>(dialect, backendMigrations, 4, t);
      const sessions = new ConsoleSessions(store.db, ids);
      await sessions.begin(start);
      const fresh = await sessions.begin(later(SESSION_SECONDS + 1));
      const rows = await store.db.selectFrom('console_sessions').select('id_hash').execute();
      assert.deepEqual(
        rows.map((r) => String(r.id_hash)),
        [sha256(fresh)],
      );
    });
  });
}

describe('anti-forgery tokens', () => {
  it("match only their own session's id", () => {
    const a = formToken('session-a');
    assert.equal(formTokenMatches('session-a', a), true);
    assert.equal(formTokenMatches('session-b', a), false);
    assert.equal(formTokenMatches('session-a', a.slice(1)), false);
    assert.equal(formTokenMatches('session-a', ''), false);
    assert.equal(formTokenMatches('session-a', undefined), false);
    assert.notEqual(a, sha256('session-a'), 'the token is not the stored hash');
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql, type Compilable } from 'kysely';
import { payserverMigrations, type PayserverTables } from '../../src/payserver/schema.ts';
import { freshStore } from './dialects.ts';

/**
 * The payment server's sweeps run every few seconds in the event loop the back-end shares under
 * `npm start`: with a million payments, one that reads the whole table held every TV's call up by
 * 180 ms (BENCHMARKS.md, console-scale). SQLite's plan must search an index instead.
 */
describe('the sweeps with a million payments in mind (SQLite query plans)', () => {
  it('finds expired codes, expired checkout pages and a day of completed payments by an index, not by reading every row', async (t) => {
    const store = await freshStore<PayserverTables>('sqlite', payserverMigrations, 1, t);
    const plan = async (q: Compilable<unknown>) => {
      const { sql: text, parameters: compiled } = q.compile();
      const parameters = [...compiled];
      const rows = await sql.raw(`EXPLAIN QUERY PLAN ${text.replace(/\?/g, () => `'${String(parameters.shift())}'`)}`).execute(store.db);
      return (rows.rows as Array<{ detail: string }>).map((r) => r.detail).join('; ');
    };
    const now = new Date().toISOString();
    const codes = await plan(store.db.selectFrom('payments').selectAll().where('status', '=', 'pending').where('method', '=', 'sms_code').where('code_expires_at', '<', now).limit(50));
    assert.match(codes, /USING INDEX payments_code_expiry/, codes);
    const pages = await plan(store.db.selectFrom('checkouts').select('order_id').where('status', '=', 'open').where('expires_at', '<=', now).limit(50));
    assert.match(pages, /USING (COVERING )?INDEX checkouts_status_expiry/, pages);
    const day = await plan(store.db.selectFrom('payments').select('id').where('completed_at', '>=', now).where('completed_at', '<', now));
    assert.match(day, /USING INDEX payments_completed/, day);
  });
});

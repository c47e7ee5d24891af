import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkoutStore } from '../../src/payserver/settlement/checkout-store.ts';
import { paymentStore } from '../../src/payserver/settlement/payment-store.ts';
import type { PayserverTables } from '../../src/payserver/schema.ts';
import { payserverMigrations } from '../../src/payserver/migrations/index.ts';
import { statementOf } from '../../src/payserver/statements/statements.ts';
import { freshStore } from './dialects.ts';
import { capturePlans } from './query-plans.ts';

/**
 * The payment server's sweeps run every few seconds in the event loop the back-end shares under
 * `npm start`: with a million payments, one that reads the whole table held every TV's call up by
 * 180 ms (BENCHMARKS.md, console-scale). SQLite's plan for what the stores really send must search
 * an index instead.
 */
describe('the sweeps with a million payments in mind (SQLite query plans)', () => {
  it('finds expired codes, expired checkout pages and a day of completed payments by an index, not by reading every row', async (t) => {
    const store = await freshStore<PayserverTables>('sqlite', payserverMigrations, 1, t);
    // The stores' own queries, as compiled for this store, caught on their way to SQLite.
    const { db, sent, planOfLast } = capturePlans(store.db);
    const now = new Date().toISOString();
    await paymentStore.expiredCodes(db, now, 50);
    assert.match(await planOfLast(), /USING INDEX payments_code_expiry/);
    await checkoutStore.dueToExpire(db, now, 50);
    assert.match(await planOfLast(), /USING (COVERING )?INDEX checkouts_status_expiry/);
    const before = sent.length;
    await statementOf(db, now.slice(0, 10), 'Asia/Shanghai');
    const payments = sent.slice(before).find((q) => /from "payments"/.test(q.sql))!;
    sent.push(payments);
    assert.match(
      await planOfLast(),
      /USING INDEX payments_status_completed \(status=\? AND completed_at>\? AND completed_at<\?\)/,
    );
  });
});

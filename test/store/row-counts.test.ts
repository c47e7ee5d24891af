import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { sql, type Kysely, type Migration } from 'kysely';
import { countsBy, rowCountsMigration, type CountedTable } from '../../src/lib/metrics/row-counts.ts';
import { backendMigrations } from '../../src/backend/migrations/index.ts';
import { DIALECTS, freshStore, skipFor } from './dialects.ts';

const ITEMS: CountedTable = { table: 'items', columns: ['status', 'channel'] };
const migrations: Record<string, Migration> = {
  '0001_items': {
    async up(db) {
      await db.schema
        .createTable('items')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('channel', 'varchar(16)')
        .addColumn('note', 'varchar(16)')
        .execute();
      // Rows already there when the counts start: the migration counts them in.
      await db
        .insertInto('items' as never)
        .values([
          { id: 1, status: 'created', channel: null },
          { id: 2, status: 'created', channel: 'sms' },
        ] as never)
        .execute();
    },
  },
  '0002_row_counts': rowCountsMigration([ITEMS]),
};

const byRows = async (db: Kysely<any>) =>
  (
    (await db
      .selectFrom('items')
      .select(['status', 'channel', (eb: any) => eb.fn.countAll().as('n')])
      .groupBy(['status', 'channel'])
      .execute()) as unknown as Array<{ status: string; channel: string | null; n: number | string }>
  )
    .map((r) => `${r.status}|${r.channel ?? 'none'}=${Number(r.n)}`)
    .sort();
const byGauge = async (db: Kysely<any>) =>
  (await countsBy(db, ITEMS)).map((c) => `${c.labels.status}|${c.labels.channel}=${c.value}`).sort();

/** What the triggers keep, read straight from their table (SQLite). */
const byKept = async (db: Kysely<any>) =>
  (
    await sql<{
      labels: string;
      n: number;
    }>`SELECT labels, n FROM row_counts WHERE key = 'items(status,channel)' AND n > 0`.execute(db)
  ).rows
    .map((r) => {
      const [status, channel] = JSON.parse(r.labels) as [string, string | null];
      return `${status}|${channel ?? 'none'}=${r.n}`;
    })
    .sort();

const STATUS = fc.constantFrom('created', 'paid', 'fulfilled');
const CHANNEL = fc.constantFrom(null, 'sms', 'link');
const op = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), status: STATUS, channel: CHANNEL }),
  fc.record({
    kind: fc.constant('move' as const),
    id: fc.integer({ min: 1, max: 12 }),
    status: STATUS,
    channel: CHANNEL,
  }),
  fc.record({ kind: fc.constant('touch' as const), id: fc.integer({ min: 1, max: 12 }) }),
  fc.record({ kind: fc.constant('delete' as const), id: fc.integer({ min: 1, max: 12 }) }),
);

for (const dialect of DIALECTS) {
  describe(`the business gauges' counts on ${dialect}`, async () => {
    const skip = await skipFor(dialect);
    it(
      'count the rows by their columns as a GROUP BY does, through inserts, moves, other updates and deletes',
      { skip },
      async (t) => {
        const store = await freshStore<any>(dialect, migrations, 2, t);
        const db = store.db;
        assert.deepEqual(await byGauge(db), ['created|none=1', 'created|sms=1'], 'the rows there before');
        let nextId = 3;
        await fc.assert(
          fc.asyncProperty(fc.array(op, { maxLength: 12 }), async (ops) => {
            for (const o of ops) {
              if (o.kind === 'insert')
                await db.insertInto('items').values({ id: nextId++, status: o.status, channel: o.channel }).execute();
              else if (o.kind === 'move')
                await db
                  .updateTable('items')
                  .set({ status: o.status, channel: o.channel })
                  .where('id', '=', o.id)
                  .execute();
              else if (o.kind === 'touch')
                await db.updateTable('items').set({ note: 'seen' }).where('id', '=', o.id).execute();
              else await db.deleteFrom('items').where('id', '=', o.id).execute();
            }
            assert.deepEqual(await byGauge(db), await byRows(db));
            if (dialect === 'sqlite')
              assert.deepEqual(await byKept(db), await byRows(db), 'the gauge read the kept counts');
          }),
          { numRuns: 40 },
        );
        // A write that is rolled back leaves the counts as they were: the triggers write in its transaction.
        const before = await byGauge(db);
        await assert.rejects(
          db.transaction().execute(async (trx) => {
            await trx.insertInto('items').values({ id: nextId++, status: 'paid', channel: 'sms' }).execute();
            await trx.deleteFrom('items').where('id', '=', 1).execute();
            throw new Error('rolled back');
          }),
          /rolled back/,
        );
        assert.deepEqual(await byGauge(db), before);
      },
    );
  });
}

describe('the business gauges on SQLite', () => {
  it('have their counts kept by an insert, an update and a delete trigger on each table they count', async (t) => {
    const store = await freshStore<any>('sqlite', backendMigrations, 1, t);
    const triggers = await sql<{
      name: string;
    }>`SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'row_counts_%' ORDER BY name`.execute(
      store.db,
    );
    const tables = [
      'orders_status_channel',
      'refunds_status_initiated_by',
      'sms_messages_kind_status',
      'subscriptions_status',
      'webhook_deliveries_status_webhook_id',
    ];
    assert.deepEqual(
      triggers.rows.map((r) => r.name),
      tables.flatMap((x) => ['delete', 'insert', 'update'].map((w) => `row_counts_${x}_${w}`)).sort(),
    );
  });
});

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

/**
 * Rules of the house that no compiler checks and a reviewer misses in a large change (issue 29): each table
 * is written by one store, and the benchmark page opens with its table. They read the sources as text, as a
 * reviewer would; a write built from a table name in a variable is not seen (none is allowed).
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)).split(sep).join('/'));
}

/** Migrations change rows of existing databases once, when the schema changes; they are history, not writers. */
const isMigration = (file: string) => /\/(schema|common-tables)\.ts$|\/migrations\//.test(file);

/**
 * Whose tables a file writes: each service, carrier and development gateway has its own database, and
 * `src/lib` and `src/sms` hold tables every service has (outbox, idempotency keys, rate limits, SMS log).
 */
function databaseOf(file: string): string {
  const parts = file.split('/');
  return parts[1] === 'dev-rails' ? parts.slice(0, 3).join('/') : parts.slice(0, 2).join('/');
}

/**
 * Kysely's writes, and the stores' shared writers in src/lib/db/rows.ts: `insertRow`, `moveRow` and `lowerRow`
 * (`insertRow(db, 'table', …)`), and `tableRows('table', …)`, which gives its file the table's insert.
 */
const WRITE =
  /\b(?:insertInto|updateTable|deleteFrom|tableRows|(?:moveRow|insertRow|lowerRow)\(\s*[\w.]+\s*,)\(?\s*['"]([a-z_]+)['"]/g;
const RAW_WRITE = /sql`\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?([a-z_]+)/gi;

/** Every (database, table) → the files that write it, migrations left out. */
function writers(): Map<string, Set<string>> {
  const found = new Map<string, Set<string>>();
  for (const file of sources('src').filter((f) => !isMigration(f))) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    for (const m of [...text.matchAll(WRITE), ...text.matchAll(RAW_WRITE)]) {
      const key = `${databaseOf(file)} ${m[1]!.toLowerCase()}`;
      found.set(key, (found.get(key) ?? new Set()).add(file));
    }
  }
  return found;
}

/**
 * Where a second writer is the design: retention prunes old rows of the shared tables by age (it moves no
 * state), and the ledger's test kit opens accounts for the ledger's own tests without the accounts service.
 */
const SECOND_WRITERS = new Set(['src/lib/db/retention.ts', 'src/payserver/ledger/ledger-test-kit.ts']);

describe('the house rules', () => {
  it('orders are written by the orders store alone', () => {
    const files = [...(writers().get('src/backend orders') ?? [])];
    assert.deepEqual(files, ['src/backend/orders/order-store.ts'], `orders written by: ${files.join(', ')}`);
  });

  it('every table of every database is written by one store (retention and the ledger test kit aside)', () => {
    const shared = [...writers()]
      .map(([table, files]) => [table, [...files].filter((f) => !SECOND_WRITERS.has(f))] as const)
      .filter(([, files]) => files.length > 1)
      .map(([table, files]) => `${table}: ${files.join(', ')}`);
    assert.deepEqual(shared, [], `tables with more than one writer:\n${shared.join('\n')}`);
  });

  it('finds the writes it looks for (the scan itself works)', () => {
    const all = writers();
    assert.ok(all.size > 30, `only ${all.size} written tables found: the scan lost its patterns`);
    assert.ok(all.has('src/payserver postings'), 'the ledger postings writer was not found');
    const refunds = [...(all.get('src/backend refunds') ?? [])];
    assert.deepEqual(refunds, ['src/backend/refunds/refund-store.ts'], 'a table opened by tableRows is not seen');
  });

  it("sees each of the stores' shared writers as a write of the table it names", () => {
    const calls = [
      "insertRow(trx, 'a_table', row)",
      "moveRow(db, 'a_table', from, set)",
      "lowerRow(trx, 'a_table', match, 'count', 1)",
      "tableRows('a_table', 'id')",
    ];
    for (const call of calls) {
      assert.deepEqual(
        [...call.matchAll(WRITE)].map((m) => m[1]),
        ['a_table'],
        `not seen as a write: ${call}`,
      );
    }
  });

  it('BENCHMARKS.md begins with its table and stays short', () => {
    const lines = readFileSync(join(ROOT, 'BENCHMARKS.md'), 'utf8').split('\n');
    const firstText = lines.slice(1).find((l) => l.trim() !== '');
    assert.match(firstText ?? '', /^\| figure/, 'the first thing under the heading must be the table');
    assert.ok(lines.length <= 200, `BENCHMARKS.md has ${lines.length} lines (at most 200)`);
  });
});

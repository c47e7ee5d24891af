import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ERROR_CATALOGUE } from './error-catalogue.ts';

const ROOT = join(import.meta.dirname, '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

describe('the error catalogue', () => {
  it('lists every code the code answers with, with the one status it has everywhere', () => {
    const used = new Map<string, Set<number>>();
    const add = (code: string, status: number) => used.set(code, (used.get(code) ?? new Set()).add(status));
    for (const file of sources(join(ROOT, 'src'))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/DomainError\(\s*'([A-Z_]+)',\s*(\d{3})/g)) add(m[1]!, Number(m[2]));
      for (const m of text.matchAll(/problem\((\d{3}), '([A-Z_]+)'/g)) add(m[2]!, Number(m[1]));
      for (const m of text.matchAll(/'([A-Z][A-Z_]+_(?:NOT_FOUND|INVALID|EXISTS))'/g)) if (!used.has(m[1]!)) used.set(m[1]!, new Set());
      for (const m of text.matchAll(/\b(notFound|conflict|badRequest)\('([A-Z_]+)'/g)) add(m[2]!, { notFound: 404, conflict: 409, badRequest: 400 }[m[1] as 'notFound']);
    }
    used.set('UNAUTHORIZED', new Set([401]));
    for (const [code, statuses] of used) {
      assert.ok(code in ERROR_CATALOGUE, `${code} is answered but not in the catalogue`);
      if (statuses.size) assert.deepEqual([...statuses], [ERROR_CATALOGUE[code as keyof typeof ERROR_CATALOGUE][0]], `${code} has one status`);
    }
  });

  it('is documented whole in docs/errors.md', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'errors.md'), 'utf8');
    for (const [code, [status]] of Object.entries(ERROR_CATALOGUE)) {
      assert.match(doc, new RegExp(`\\| \`${code}\` \\| ${status} \\|`), `${code} (${status}) is not in docs/errors.md`);
    }
  });
});

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ERROR_CATALOGUE, type ErrorCode } from './error-catalogue.ts';
import { statusOf } from './http/problem.ts';

const ROOT = join(import.meta.dirname, '..', '..');

describe('the error catalogue', () => {
  // That every code the code answers with is in the catalogue is the compiler's job: DomainError and
  // problem() take only the catalogue's codes.
  it('gives every kind of error a client status, and only the server errors a 5xx', () => {
    for (const code of Object.keys(ERROR_CATALOGUE) as ErrorCode[]) {
      const status = statusOf(code);
      assert.ok(status >= 400 && status < 600, code);
      assert.equal(
        status >= 500,
        ['INTERNAL', 'NOT_READY', 'STORAGE_UNAVAILABLE'].includes(code),
        `${code} is ${status}`,
      );
    }
  });

  it("is documented whole in docs/errors.md, with each code's status", () => {
    const doc = readFileSync(join(ROOT, 'docs', 'errors.md'), 'utf8');
    for (const code of Object.keys(ERROR_CATALOGUE) as ErrorCode[]) {
      assert.match(
        doc,
        new RegExp(`\\| \`${code}\` \\| ${statusOf(code)} \\|`),
        `${code} (${statusOf(code)}) is not in docs/errors.md`,
      );
    }
  });
});

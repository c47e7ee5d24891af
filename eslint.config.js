// The lint gate that .ci/run runs: ESLint's and typescript-eslint's recommended rules, without type
// information (fast), over the sources, tests and scripts.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'data/**', 'test-artifacts/**', 'dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // Vendor-facing and test glue code reads untyped JSON; `any` there is deliberate and local.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  {
    // TigerBeetle's limit on function length (issue 29): a function a reader sees whole. Tests are exempt.
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.test.ts'],
    rules: {
      'max-lines-per-function': ['error', { max: 70, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    // Lines a reader sees whole (issue 29), tests included. A long text is split into concatenated pieces rather
    // than exempted; only a URL or a regular expression may run past the limit.
    files: ['src/**/*.ts'],
    rules: {
      'max-len': ['error', { code: 120, ignoreUrls: true, ignoreRegExpLiterals: true }],
    },
  },
  {
    // The services' transactions are units of work, which wake the outbox after the commit (issue 29).
    files: ['src/payserver/**/*.ts', 'src/backend/**/*.ts'],
    ignores: ['src/*/**/*.test.ts', 'src/payserver/outbox.ts', 'src/backend/outbox.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/lib/db/in-transaction.ts'],
              importNames: ['inTransaction'],
              message: 'Run a transaction as a unit of work (core.work), which runs its after-commit hooks.',
            },
            {
              group: ['**/lib/outbox/outbox.ts'],
              importNames: ['enqueue'],
              message: "Use the service's outbox.ts enqueue, which wakes the outbox after the commit.",
            },
            {
              group: ['**/sms/text-sms.ts'],
              importNames: ['queueText', 'queueSms'],
              message: "Use the service's outbox.ts queueText or queueSms, which wake the outbox after the commit.",
            },
          ],
        },
      ],
    },
  },
);

/**
 * Whether a database error is a unique-key violation (SQLite's
 * SQLITE_CONSTRAINT_UNIQUE / PRIMARYKEY, PostgreSQL's 23505): the sign that a
 * concurrent request created the same thing first, to be answered as such.
 */
export function isUniqueViolation(err: unknown): boolean {
  const code = String((err as { code?: unknown } | null)?.code ?? '');
  return (
    code === '23505' ||
    code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    /UNIQUE constraint failed/.test(String((err as Error | null)?.message))
  );
}

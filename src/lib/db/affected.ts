/**
 * Rows touched by an UPDATE or DELETE, as a number, for "did my conditional
 * update win?": from a Kysely result, or from a prepared query's raw result.
 */
export function affected(
  result: { numUpdatedRows?: bigint; numDeletedRows?: bigint; numAffectedRows?: bigint } | undefined,
): number {
  return Number(result?.numUpdatedRows ?? result?.numDeletedRows ?? result?.numAffectedRows ?? 0n);
}

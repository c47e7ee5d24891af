/** Rows touched by an UPDATE or DELETE, as a number, for "did my conditional update win?". */
export function affected(result: { numUpdatedRows?: bigint; numDeletedRows?: bigint } | undefined): number {
  return Number(result?.numUpdatedRows ?? result?.numDeletedRows ?? 0n);
}

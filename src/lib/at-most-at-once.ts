/**
 * Runs `fn` over `items` with at most `limit` calls in flight, and resolves
 * to their results in order (it rejects with the first failure once every
 * call has settled). For passes whose units are independent transactions:
 * in flight together they share the store's group commits instead of
 * waiting for one durable commit each.
 */
export async function atMostAtOnce<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { err: unknown } | undefined;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failure) throw failure.err;
  return results;
}

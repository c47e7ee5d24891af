/** A batch gathering under one store and group: what was asked, and the promise of its one write. */
interface Batch<I, R> {
  items: I[];
  written: Promise<R>;
}

/**
 * Writes asked for within a short tick, gathered per store and group and written by one statement (issue 30:
 * a gateway's SMS reports, inline deliveries' done marks). The first ask of a tick starts a batch, written
 * `tickMs` later; a batch holding `max` asks takes no more (the next ask starts another). Each caller waits for
 * its batch's write and gets its result. Only outside a transaction: the write comes after the caller's turn.
 */
export class TickBatches<I, R> {
  private readonly open = new WeakMap<object, Map<string, Batch<I, R>>>();

  constructor(
    private readonly tickMs: number,
    private readonly max: number,
  ) {}

  /** What the batch now gathering under `store` and `group` holds (nothing when none is). */
  gathering(store: object, group: string): readonly I[] {
    return this.open.get(store)?.get(group)?.items ?? [];
  }

  /** Adds `item` to the batch gathering under `store` and `group`, which `write` writes; that write's result. */
  add(store: object, group: string, item: I, write: (items: I[]) => Promise<R>): Promise<R> {
    let groups = this.open.get(store);
    if (!groups) this.open.set(store, (groups = new Map()));
    let batch = groups.get(group);
    if (!batch) {
      const b: Batch<I, R> = { items: [], written: Promise.resolve(undefined as R) };
      const all = groups;
      b.written = new Promise((resolve) => setTimeout(resolve, this.tickMs)).then(() => {
        if (all.get(group) === b) all.delete(group);
        return write(b.items);
      });
      groups.set(group, (batch = b));
    }
    batch.items.push(item);
    if (batch.items.length >= this.max) groups.delete(group);
    return batch.written;
  }
}

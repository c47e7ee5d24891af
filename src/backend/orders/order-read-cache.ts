import type { OrderNews } from '../core/order-events.ts';
import type { OrderRow } from './order-store.ts';

interface Load {
  promise: Promise<OrderRow | undefined>;
  /** A change was announced while this read was under way: what it read may be older, so it is not kept. */
  stale: boolean;
}

export interface OrderReadCacheOptions {
  /** Orders kept at most (the longest kept go first). */
  maxEntries: number;
  /** How long a kept order is served without reading it again: a bound on a change nobody announced. */
  maxAgeMs: number;
  /** Milliseconds of a monotonic clock. */
  now?: () => number;
}

/**
 * The orders TVs are watching, as last read, for the TV's status read (the
 * call a waiting TV repeats): a read never older than the last change this
 * instance was told of. Every change to an order is announced after its
 * commit (OrderEvents: the writer's own changes, and on PostgreSQL the other
 * instances' through LISTEN/NOTIFY). An announcement with the row the change
 * committed keeps that row (a waiting TV's next read, and its event stream's
 * first, need no store read); one with only the version drops an older row
 * and refuses any older one until then; one with neither drops the order, and
 * a read under way when it is announced is not kept. Of two rows of an order
 * the one with the higher version is kept, whatever order they arrive in.
 * While the announcements cannot be heard (the LISTEN connection is down)
 * nothing is kept.
 * `maxAgeMs` bounds what a change that was never announced could cost.
 * Decisions (paying, cancelling, refunding) never read from here.
 */
export class OrderReadCache {
  private readonly rows = new Map<string, { row: OrderRow; at: number }>();
  private readonly loads = new Map<string, Load>();
  /** Orders announced at a version newer than what was kept: no row older than it is kept. */
  private readonly floors = new Map<string, number>();
  private hearing = true;
  private readonly now: () => number;

  constructor(private readonly options: OrderReadCacheOptions) {
    this.now = options.now ?? (() => performance.now());
  }

  /**
   * The order as kept, if it is (and not past `maxAgeMs`): the status read answers from it without a turn of the event
   * loop.
   */
  kept(orderId: string): OrderRow | undefined {
    const kept = this.rows.get(orderId);
    return kept && this.now() - kept.at < this.options.maxAgeMs ? kept.row : undefined;
  }

  /** The order as kept, else as `load` reads it (reads of one order at one moment share one load). */
  async read(orderId: string, load: () => Promise<OrderRow | undefined>): Promise<OrderRow | undefined> {
    const kept = this.rows.get(orderId);
    if (kept && this.now() - kept.at < this.options.maxAgeMs) return kept.row;
    const running = this.loads.get(orderId);
    if (running) return running.promise;
    const started: Load = { promise: load(), stale: false };
    this.loads.set(orderId, started);
    try {
      const row = await started.promise;
      if (row && !started.stale) this.offer(row);
      return row;
    } finally {
      if (this.loads.get(orderId) === started) this.loads.delete(orderId);
    }
  }

  /**
   * An order changed. With the row it committed, that row is kept (unless a newer one is); with its version only, an
   * older row kept is dropped; with neither, it is read again next time, and a read under way is not kept.
   */
  changed(orderId: string, news: OrderNews = {}): void {
    if (news.row) {
      // A read under way may have read an older row (were the announced one evicted meanwhile, it would be kept).
      this.forgetLoad(orderId);
      return this.offer(news.row);
    }
    const version = news.version;
    if (version !== undefined) {
      const kept = this.rows.get(orderId);
      if (kept && kept.row.version >= version) return;
      this.rows.delete(orderId);
      if ((this.floors.get(orderId) ?? -1) < version) this.floors.set(orderId, version);
      if (this.floors.size > this.options.maxEntries) this.floors.delete(this.floors.keys().next().value!);
      return;
    }
    this.rows.delete(orderId);
    this.forgetLoad(orderId);
  }

  /** A read of the order under way is not kept, and reads from now on do not join it. */
  private forgetLoad(orderId: string): void {
    const running = this.loads.get(orderId);
    if (running) {
      running.stale = true;
      this.loads.delete(orderId);
    }
  }

  /**
   * A reader of the store saw `row` (an event stream's own read): a kept row older than it is dropped, so a change
   * nobody announced is not served stale by the status read either.
   */
  saw(row: OrderRow): void {
    const kept = this.rows.get(row.id);
    if (kept && kept.row.version < row.version) this.rows.delete(row.id);
  }

  /**
   * Whether changes can be heard. Going deaf forgets everything (a change
   * may be missed from now on); hearing again starts from nothing too (one
   * may have been missed meanwhile).
   */
  setHearing(hearing: boolean): void {
    this.hearing = hearing;
    this.rows.clear();
    this.floors.clear();
    for (const running of this.loads.values()) running.stale = true;
    this.loads.clear();
  }

  get size(): number {
    return this.rows.size;
  }

  /** Keeps `row` unless changes cannot be heard, or a newer row of it is kept or was announced. */
  private offer(row: OrderRow): void {
    if (!this.hearing) return;
    const floor = this.floors.get(row.id);
    if (floor !== undefined && row.version < floor) return;
    const kept = this.rows.get(row.id);
    if (kept && kept.row.version > row.version) return;
    this.floors.delete(row.id);
    this.keep(row.id, row);
  }

  private keep(orderId: string, row: OrderRow): void {
    this.rows.delete(orderId);
    this.rows.set(orderId, { row, at: this.now() });
    if (this.rows.size > this.options.maxEntries) this.rows.delete(this.rows.keys().next().value!);
  }
}

import { EventEmitter } from 'node:events';
import type { BackendTables } from '../schema.ts';

type OrderRow = BackendTables['orders'];

/**
 * What an announcement of an order's change carries, besides the order's id: the order as the change committed it
 * (the writer's own change, in this process), or only its version (a change another instance announced), or nothing
 * (a change whose row the writer does not have). A reader that has the row, or a newer one, need not read it again.
 */
export interface OrderNews {
  row?: OrderRow;
  version?: number;
}

/** The version an announcement tells of, if it tells one. */
export const versionOf = (news: OrderNews): number | undefined => news.row?.version ?? news.version;

/** Something that keeps what it read of orders, and must hear of every change to them. */
export interface OrderWatcher {
  changed(orderId: string, news?: OrderNews): void;
  /** Whether changes can be heard at all (false while the bridge to the other instances is down). */
  setHearing(hearing: boolean): void;
}

/**
 * Tells open event streams that an order changed. Published after the
 * transaction that changed it commits, with the order as it committed it
 * when the writer has it (the stream then sends it without a read); else the
 * stream re-reads the order. Other instances hear of it through a bridge
 * (PostgreSQL LISTEN/NOTIFY).
 */
export class OrderEvents {
  private readonly emitter = new EventEmitter();
  private readonly forwarders: Array<(orderId: string, news: OrderNews) => void> = [];
  private readonly watchers: OrderWatcher[] = [];
  private hearing = true;

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  /** An order changed here (`row`: as its change committed it): wake local streams and tell the other instances. */
  publish(orderId: string, row?: OrderRow): void {
    const news: OrderNews = row ? { row } : {};
    this.wake(orderId, news);
    for (const forward of this.forwarders) forward(orderId, news);
  }

  /** An order changed (here or elsewhere): tell the watchers, then wake local streams. */
  wake(orderId: string, news: OrderNews = {}): void {
    for (const watcher of this.watchers) watcher.changed(orderId, news);
    this.emitter.emit(orderId, news);
  }

  /** Every change to any order, and whether changes can be heard, go to `watcher` too. */
  watch(watcher: OrderWatcher): void {
    this.watchers.push(watcher);
    watcher.setHearing(this.hearing);
  }

  /** The bridge went down (changes elsewhere may be missed) or came back. */
  setHearing(hearing: boolean): void {
    this.hearing = hearing;
    for (const watcher of this.watchers) watcher.setHearing(hearing);
  }

  /** Registers a bridge that carries local changes to other instances. */
  onPublish(forward: (orderId: string, news: OrderNews) => void): void {
    this.forwarders.push(forward);
  }

  subscribe(orderId: string, listener: (news: OrderNews) => void): () => void {
    this.emitter.on(orderId, listener);
    return () => this.emitter.off(orderId, listener);
  }
}

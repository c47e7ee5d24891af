import { EventEmitter } from 'node:events';

/**
 * Tells open event streams that an order changed. Published after the
 * transaction that changed it commits; the stream re-reads the order. Other
 * instances hear of it through a bridge (PostgreSQL LISTEN/NOTIFY).
 */
/** Something that keeps what it read of orders, and must hear of every change to them. */
export interface OrderWatcher {
  changed(orderId: string): void;
  /** Whether changes can be heard at all (false while the bridge to the other instances is down). */
  setHearing(hearing: boolean): void;
}

export class OrderEvents {
  private readonly emitter = new EventEmitter();
  private readonly forwarders: Array<(orderId: string) => void> = [];
  private readonly watchers: OrderWatcher[] = [];
  private hearing = true;

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  /** An order changed here: wake local streams and tell the other instances. */
  publish(orderId: string): void {
    this.wake(orderId);
    for (const forward of this.forwarders) forward(orderId);
  }

  /** An order changed (here or elsewhere): tell the watchers, then wake local streams. */
  wake(orderId: string): void {
    for (const watcher of this.watchers) watcher.changed(orderId);
    this.emitter.emit(orderId);
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
  onPublish(forward: (orderId: string) => void): void {
    this.forwarders.push(forward);
  }

  subscribe(orderId: string, listener: () => void): () => void {
    this.emitter.on(orderId, listener);
    return () => this.emitter.off(orderId, listener);
  }
}

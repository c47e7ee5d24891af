import { EventEmitter } from 'node:events';

/**
 * Tells open event streams that an order changed. Published after the
 * transaction that changed it commits; the stream re-reads the order. Other
 * instances hear of it through a bridge (PostgreSQL LISTEN/NOTIFY).
 */
export class OrderEvents {
  private readonly emitter = new EventEmitter();
  private readonly forwarders: Array<(orderId: string) => void> = [];

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  /** An order changed here: wake local streams and tell the other instances. */
  publish(orderId: string): void {
    this.wake(orderId);
    for (const forward of this.forwarders) forward(orderId);
  }

  /** An order changed (here or elsewhere): wake local streams only. */
  wake(orderId: string): void {
    this.emitter.emit(orderId);
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

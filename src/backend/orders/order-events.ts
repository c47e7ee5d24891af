import { EventEmitter } from 'node:events';

/**
 * Tells open event streams that an order changed. Published after the
 * transaction that changed it commits; the stream re-reads the order.
 */
export class OrderEvents {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  publish(orderId: string): void {
    this.emitter.emit(orderId);
  }

  subscribe(orderId: string, listener: () => void): () => void {
    this.emitter.on(orderId, listener);
    return () => this.emitter.off(orderId, listener);
  }
}

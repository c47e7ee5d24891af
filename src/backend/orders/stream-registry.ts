import { DomainError } from '../../lib/errors.ts';

export interface StreamLimits {
  perDevice: number;
  perOrder: number;
}

/**
 * The event streams this instance holds open: capped per TV and per order
 * (each stream costs a socket, two timers and a periodic read), and ended all
 * at once when the service shuts down, so a rolling deploy never waits on a
 * TV that keeps watching (the TV's EventSource reconnects to another instance).
 */
export class StreamRegistry {
  private readonly byDevice = new Map<string, number>();
  private readonly byOrder = new Map<string, number>();
  private readonly enders = new Set<() => void>();

  constructor(private readonly limits: StreamLimits) {}

  /** Registers a stream, or throws STREAMS_LIMITED (429); the result unregisters it, once. */
  open(deviceId: string, orderId: string, end: () => void): () => void {
    if ((this.byDevice.get(deviceId) ?? 0) >= this.limits.perDevice) {
      throw new DomainError(
        'STREAMS_LIMITED',
        `This TV already holds ${this.limits.perDevice} event streams; close one first.`,
        { retryAfterSeconds: 5 },
      );
    }
    if ((this.byOrder.get(orderId) ?? 0) >= this.limits.perOrder) {
      throw new DomainError(
        'STREAMS_LIMITED',
        `This order already has ${this.limits.perOrder} event streams; close one first.`,
        { retryAfterSeconds: 5 },
      );
    }
    bump(this.byDevice, deviceId, 1);
    bump(this.byOrder, orderId, 1);
    this.enders.add(end);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      bump(this.byDevice, deviceId, -1);
      bump(this.byOrder, orderId, -1);
      this.enders.delete(end);
    };
  }

  get size(): number {
    return this.enders.size;
  }

  /** Ends every open stream (shutdown). */
  endAll(): void {
    for (const end of [...this.enders]) end();
  }
}

function bump(map: Map<string, number>, key: string, by: number): void {
  const n = (map.get(key) ?? 0) + by;
  if (n <= 0) map.delete(key);
  else map.set(key, n);
}

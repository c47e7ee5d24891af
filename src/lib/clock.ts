/** Time is injected so expiry, retries and backoff are testable without sleeping. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  constructor(private t = Date.parse('2026-01-01T00:00:00Z')) {}
  now(): Date {
    return new Date(this.t);
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

/**
 * The system's time plus an offset that only grows: runs at the real rate
 * and can be moved forward (never back), so a whole running system (HTTP,
 * signatures, outbox, sweepers) sees time pass without anyone sleeping.
 */
export class ShiftedClock implements Clock {
  private offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  advance(ms: number): void {
    if (ms > 0) this.offsetMs += ms;
  }
}

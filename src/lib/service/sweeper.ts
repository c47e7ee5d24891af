import type { Log } from '../log.ts';

/**
 * Runs periodic housekeeping (expiry, pruning) one pass at a time; a failing
 * pass is logged and the next one runs as usual.
 */
export class Sweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private next: Promise<void> | undefined;

  constructor(
    private readonly pass: () => Promise<void>,
    private readonly everyMs: number,
    private readonly log: Log,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.everyMs);
    this.timer.unref();
  }

  /** The timer's pass: skipped while one is under way (the next tick comes soon enough). */
  async tick(): Promise<void> {
    if (!this.running) await this.begin();
  }

  /**
   * A pass that starts now or later, never earlier: while one is under way it may have read the clock
   * and the store before the caller's change, so one more runs after it, shared by all who ask meanwhile.
   * Returning the pass under way let a test that moved the clock find nothing swept (CI, renewal day).
   */
  async runOnce(): Promise<void> {
    if (!this.running) return this.begin();
    this.next ??= this.running.then(() => {
      this.next = undefined;
      return this.runOnce();
    });
    return this.next;
  }

  private begin(): Promise<void> {
    this.running = this.pass()
      .catch((err) => this.log.error({ err }, 'sweep failed'))
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.next;
    await this.running;
  }
}

import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import type { CommonTables } from '../db/common-tables.ts';
import { affected } from '../db/affected.ts';
import { PermanentFailure } from './outbox.ts';

/** Handles one message; `attempt` counts deliveries of it, from 1, so a handler can give up in its own way. */
export type OutboxHandler = (payload: any, messageId: string, attempt: number) => Promise<void>;

export interface OutboxWorkerOptions {
  pollMs?: number;
  batch?: number;
  leaseMs?: number;
  maxBackoffMs?: number;
  /** On PostgreSQL, workers of several instances claim batches with FOR UPDATE SKIP LOCKED. */
  dialect?: 'sqlite' | 'postgres';
}

/**
 * Delivers outbox messages with retries and exponential backoff until their
 * handler succeeds. A message is leased by a conditional update before it is
 * handled, so several workers (or instances) never handle it at once; a
 * worker that dies mid-delivery leaves the lease to expire and the message is
 * retried. Handlers must therefore be idempotent, which every receiver is.
 */
export class OutboxWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  private readonly pollMs: number;
  private readonly batch: number;
  private readonly leaseMs: number;
  private readonly maxBackoffMs: number;
  private readonly dialect: 'sqlite' | 'postgres';

  constructor(
    private readonly db: Kysely<CommonTables>,
    private readonly handlers: Record<string, OutboxHandler>,
    private readonly clock: Clock,
    private readonly log: Logger,
    options: OutboxWorkerOptions = {},
  ) {
    this.pollMs = options.pollMs ?? 500;
    this.batch = options.batch ?? 16;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.maxBackoffMs = options.maxBackoffMs ?? 60_000;
    this.dialect = options.dialect ?? 'sqlite';
  }

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.kick(), this.pollMs);
    this.timer.unref();
    this.kick();
  }

  /** Runs a delivery pass now (called right after a commit that enqueued something). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  /** Delivers everything that is due, then resolves; for tests and shutdown. */
  async drain(): Promise<void> {
    for (let pass = 0; pass < 100; pass++) {
      const handled = await this.deliverDue().catch((err) => {
        this.log.error({ err }, 'outbox pass failed');
        return 0;
      });
      if (handled === 0) return;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  private async deliverDue(): Promise<number> {
    const claimed = this.dialect === 'postgres' ? await this.claimSkipLocked() : await this.claimOneByOne();
    await Promise.all(claimed.map((m) => this.deliver(m)));
    return claimed.length;
  }

  /**
   * PostgreSQL: one statement leases a batch; rows another instance is
   * leasing at the same moment are skipped rather than waited for.
   */
  private async claimSkipLocked(): Promise<Array<{ id: string; topic: string; payload: string; attempts: number }>> {
    const now = this.clock.now().toISOString();
    const lease = new Date(this.clock.now().getTime() + this.leaseMs).toISOString();
    return this.db
      .updateTable('outbox')
      .set({ locked_until: lease })
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('outbox')
          .select('id')
          .where('status', '=', 'pending')
          .where('next_attempt_at', '<=', now)
          .where((w) => w.or([w('locked_until', 'is', null), w('locked_until', '<', now)]))
          .orderBy('created_at')
          .limit(this.batch)
          .forUpdate()
          .skipLocked(),
      )
      .returning(['id', 'topic', 'payload', 'attempts'])
      .execute();
  }

  /** SQLite (one writer): read the due messages, then lease each with a conditional update. */
  private async claimOneByOne(): Promise<Array<{ id: string; topic: string; payload: string; attempts: number }>> {
    const now = this.clock.now().toISOString();
    const due = await this.db
      .selectFrom('outbox')
      .select(['id', 'topic', 'payload', 'attempts'])
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)]))
      .orderBy('created_at')
      .limit(this.batch)
      .execute();
    const lease = new Date(this.clock.now().getTime() + this.leaseMs).toISOString();
    const claimed = [];
    for (const m of due) {
      const res = await this.db
        .updateTable('outbox')
        .set({ locked_until: lease })
        .where('id', '=', m.id)
        .where('status', '=', 'pending')
        .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)]))
        .executeTakeFirst();
      if (affected(res) === 1) claimed.push(m);
    }
    return claimed;
  }

  private async deliver(m: { id: string; topic: string; payload: string; attempts: number }): Promise<void> {
    const handler = this.handlers[m.topic];
    try {
      if (!handler) throw new PermanentFailure(`no handler for topic ${m.topic}`);
      await handler(JSON.parse(m.payload), m.id, m.attempts + 1);
      await this.db
        .updateTable('outbox')
        .set({ status: 'done', done_at: this.clock.now().toISOString(), locked_until: null, attempts: m.attempts + 1 })
        .where('id', '=', m.id)
        .execute();
    } catch (err) {
      const attempts = m.attempts + 1;
      const permanent = err instanceof PermanentFailure;
      const backoff = Math.min(this.maxBackoffMs, 250 * 2 ** Math.min(attempts, 20));
      const jitter = Math.floor(Math.random() * (backoff / 4));
      this.log.warn({ topic: m.topic, messageId: m.id, attempts, err: (err as Error).message }, permanent ? 'outbox message given up' : 'outbox delivery failed; will retry');
      await this.db
        .updateTable('outbox')
        .set({
          status: permanent ? 'dead' : 'pending',
          attempts,
          last_error: String((err as Error).message).slice(0, 500),
          locked_until: null,
          next_attempt_at: new Date(this.clock.now().getTime() + backoff + jitter).toISOString(),
        })
        .where('id', '=', m.id)
        .execute();
    }
  }
}

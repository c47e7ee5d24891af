import { correlation } from '../correlation.ts';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import type { CommonTables } from '../db/common-tables.ts';
import type { Count } from '../metrics/service-metrics.ts';
import {
  PermanentFailure,
  registerTaker,
  RetryLater,
  unplacedDue,
  type OutboxHandler,
  type OutboxMessage,
  type OutboxTaker,
  type Reservation,
} from './outbox.ts';
import { outboxStore } from './outbox-store.ts';

export interface OutboxWorkerOptions {
  pollMs?: number;
  /** How many messages may be in delivery at once. */
  batch?: number;
  leaseMs?: number;
  maxBackoffMs?: number;
  /** On PostgreSQL, workers of several instances claim batches with FOR UPDATE SKIP LOCKED. */
  dialect?: 'sqlite' | 'postgres';
  /**
   * Which topics this worker delivers: only these, or all but these. Two
   * workers over one outbox split it so that slow deliveries of one kind
   * (webhooks to the operator's systems) never fill the slots of another
   * (the SMS and the messages between the services).
   */
  topics?: { only: readonly string[] } | { except: readonly string[] };
  /** Counts the messages given up (the service's metrics), once each is recorded dead. */
  count?: Count;
  /**
   * Failed deliveries after which a message is given up as a dead letter (`dead_letter`: never retried,
   * counted in `tvpay_outbox_dead_letters` and shown in the consoles) instead of retried again. A
   * handler with a schedule of its own (RetryLater, like webhooks') gives up on its own terms.
   */
  maxAttempts?: number;
  /**
   * How long a delivered message waits to be marked done with the others delivered meanwhile, in one
   * statement (ms; 0 marks each at once). Far shorter than the lease, which keeps it from being claimed again.
   */
  doneTickMs?: number;
}

/** TVPAY_OUTBOX_MAX_ATTEMPTS' default: about a day of retries at the 60 s ceiling of the backoff. */
const OUTBOX_MAX_ATTEMPTS = 1440;

type Claimed = OutboxMessage;

/** Most messages one done statement names (far below either database's limit on parameters). */
const DONE_BATCH_MAX = 500;

/**
 * Delivers outbox messages with retries and exponential backoff until their
 * handler succeeds. A message is leased by a conditional update before it is
 * handled, so several workers (or instances) never handle it at once; a
 * worker that dies mid-delivery leaves the lease to expire and the message is
 * retried. Handlers must therefore be idempotent, which every receiver is.
 *
 * Deliveries run as a pipeline of up to `batch` at once: a message enqueued
 * while others are being delivered is claimed at once, not after the slowest
 * of them (under load that wait was a large share of a checkout's latency).
 *
 * A delivered message is marked done with every other one delivered in the same short tick, in one
 * statement (issue 30: a checkout's three messages cost three done statements, now a share of one under
 * load). Until then it is still leased to this worker, so nobody claims it again; the tick is far shorter
 * than the lease. A crash before the mark lands leaves the lease to expire and the message is delivered
 * again, as after a crash mid-delivery: at least once, and receivers deduplicate.
 */
export class OutboxWorker implements OutboxTaker {
  private timer: NodeJS.Timeout | undefined;
  private claiming: Promise<number> | undefined;
  private again = false;
  /** The last claim filled every free slot, so more may be due when a slot frees. */
  private starved = false;
  private stopped = true;
  private readonly deliveries = new Set<Promise<void>>();
  /** The deliveries under way by message id, and whether each succeeded (deliverNow waits for its own). */
  private readonly inFlight = new Map<string, Promise<boolean>>();
  /** Slots promised to messages of transactions still committing (reserve). */
  private reserved = 0;
  /** A message this worker delivers became due without being handed to it: the next kick claims. */
  private dueSinceClaim = true;
  /** unplacedDue() as this worker last claimed. */
  private unplacedSeen = 0;
  private readonly pollMs: number;
  private readonly batch: number;
  private readonly leaseMs: number;
  private readonly maxBackoffMs: number;
  private readonly dialect: 'sqlite' | 'postgres';
  private readonly topics: OutboxWorkerOptions['topics'];
  private readonly count: Count | undefined;
  private readonly maxAttempts: number;
  private readonly doneTickMs: number;
  /** Delivered messages whose done mark waits for the tick. */
  private doneIds: string[] = [];
  private doneTimer: NodeJS.Timeout | undefined;
  /** Done marks being written. */
  private readonly marking = new Set<Promise<void>>();
  /**
   * The next claim reads every due message this worker may deliver, not only its own topics' ranges: set by the poll.
   */
  private sweepDue = true;
  /**
   * The claim of its own topics' ranges (ownTopicsClaim), made when it starts with its handlers; none where it delivers
   * every topic.
   */
  private ownClaim: ((now: string, lease: string, limit: number) => Promise<Claimed[]>) | undefined;

  constructor(
    private readonly db: Kysely<CommonTables>,
    private readonly clock: Clock,
    private readonly log: Logger,
    options: OutboxWorkerOptions = {},
  ) {
    this.pollMs = options.pollMs ?? 500;
    this.batch = options.batch ?? 16;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.maxBackoffMs = options.maxBackoffMs ?? 60_000;
    this.dialect = options.dialect ?? 'sqlite';
    this.topics = options.topics;
    this.count = options.count;
    this.maxAttempts = options.maxAttempts ?? OUTBOX_MAX_ATTEMPTS;
    this.doneTickMs = Math.min(options.doneTickMs ?? 100, this.leaseMs / 10);
  }

  /** What each topic's messages are handled by; set when the worker starts, once the services exist. */
  private handlers = new Map<string, OutboxHandler>();

  /**
   * Starts delivering, with the topics' handlers (`handler(topic, fn)`); without them, restarts with the ones it had.
   */
  start(handlers?: Iterable<[string, OutboxHandler]>): void {
    if (handlers) {
      this.handlers = new Map(handlers);
      this.ownClaim = this.ownTopicsClaim();
    }
    this.stopped = false;
    registerTaker(this.db, this, true);
    this.timer = setInterval(() => {
      this.sweepDue = true;
      this.claimSoon();
    }, this.pollMs);
    this.timer.unref();
    this.claimSoon();
  }

  /**
   * Claims due messages now (called right after a commit that enqueued something), if a message of its
   * topics became due since its last claim that was not handed to it (enqueue): a kick after a commit
   * whose messages this worker already has, or which were of other workers' topics, costs no statement.
   * Messages due later, retries, and other instances' messages are found by the periodic sweep.
   */
  kick(): void {
    if (!this.dueSinceClaim && unplacedDue() === this.unplacedSeen) return;
    this.claimSoon();
  }

  /** Whether this worker delivers messages of `topic`. */
  private delivers(topic: string): boolean {
    if (!this.handlers.has(topic)) return false;
    if (this.topics === undefined) return true;
    return 'only' in this.topics ? this.topics.only.includes(topic) : !this.topics.except.includes(topic);
  }

  /** OutboxTaker: a slot for a message of a committing transaction, leased to this worker (enqueue). */
  reserve(topic: string, now: Date): Reservation | undefined {
    if (this.stopped || !this.delivers(topic) || this.deliveries.size + this.reserved >= this.batch) return undefined;
    this.reserved++;
    let open = true;
    const settle = () => {
      if (!open) return false;
      open = false;
      this.reserved--;
      return true;
    };
    return {
      lockedUntil: new Date(now.getTime() + this.leaseMs),
      deliver: (m) => {
        // Stopped meanwhile: the lease expires and a worker claims it then.
        if (settle() && !this.stopped) this.start1(m);
      },
      cancel: () => void settle(),
    };
  }

  /** OutboxTaker: a message of `topic` became due and nobody here has it. */
  due(topic: string): void {
    if (this.delivers(topic)) this.dueSinceClaim = true;
  }

  /** Claims due messages now, whatever it was told. */
  private claimSoon(): void {
    if (this.stopped) return;
    if (this.claiming) {
      this.again = true;
      return;
    }
    this.claiming = this.claimAndStart().finally(() => {
      this.claiming = undefined;
      if (this.again) {
        this.again = false;
        this.claimSoon();
      }
    });
  }

  /** Delivers everything that is due, then resolves; for tests and shutdown. */
  async drain(): Promise<void> {
    for (let pass = 0; pass < 100; pass++) {
      await this.claiming;
      const claimed = await this.claimAndStart();
      await Promise.all(this.deliveries);
      await this.markDoneNow();
      // A delivery that ended may have started a claim of its own (kick): that one is waited for too.
      if (claimed === 0 && this.deliveries.size === 0 && !this.claiming) return;
    }
  }

  /**
   * Delivers one message now, if it is still pending and nobody holds its
   * lease, for a caller that must learn its outcome before it answers (the
   * checkout page waits for the back-end's verdict on a payment). Resolves
   * whether this call delivered it; otherwise the worker does, as usual.
   */
  async deliverNow(id: string): Promise<boolean> {
    if (this.stopped) return false;
    // Handed to this worker by its transaction (enqueue), or claimed by it: under way already.
    const running = this.inFlight.get(id);
    if (running) return running;
    const [claimed] = await this.claim(1, id);
    if (!claimed) return false;
    return this.start1(claimed);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    registerTaker(this.db, this, false);
    if (this.timer) clearInterval(this.timer);
    await this.claiming;
    await Promise.all(this.deliveries);
    await this.markDoneNow();
  }

  /** A delivered message: marked done at the tick, with the others delivered by then. */
  private done(id: string): void {
    this.doneIds.push(id);
    if (this.doneTickMs <= 0 || this.doneIds.length >= DONE_BATCH_MAX) void this.markDoneNow();
    else if (!this.doneTimer) this.doneTimer = setTimeout(() => void this.markDoneNow(), this.doneTickMs);
  }

  /**
   * Marks every delivered message waiting for the tick done now, and waits for every mark under way. A mark
   * that fails is logged: those messages' leases expire and they are delivered again.
   */
  private async markDoneNow(): Promise<void> {
    if (this.doneTimer) clearTimeout(this.doneTimer);
    this.doneTimer = undefined;
    const ids = this.doneIds;
    this.doneIds = [];
    if (ids.length > 0) {
      const mark: Promise<void> = outboxStore
        .markHandled(this.db, ids, this.clock.now().toISOString(), this.dialect === 'postgres')
        .catch((err) =>
          this.log.error(
            { err, messages: ids.length },
            'outbox done marks could not be recorded; their leases will expire and they are delivered again',
          ),
        )
        .finally(() => this.marking.delete(mark));
      this.marking.add(mark);
    }
    await Promise.all(this.marking);
  }

  /** Claims as many due messages as there are free slots and starts delivering them; returns how many. */
  private async claimAndStart(): Promise<number> {
    const room = this.batch - this.deliveries.size - this.reserved;
    if (room <= 0) {
      this.starved = true;
      return 0;
    }
    this.dueSinceClaim = false;
    this.unplacedSeen = unplacedDue();
    const claimed = await this.claim(room).catch((err) => {
      this.log.error({ err }, 'outbox claim failed');
      this.dueSinceClaim = true;
      return [] as Claimed[];
    });
    this.starved = claimed.length === room;
    for (const m of claimed) this.start1(m);
    return claimed.length;
  }

  /** Starts delivering one message this worker holds the lease of (claimed, or handed over by enqueue). */
  private start1(m: Claimed): Promise<boolean> {
    let delivered = false;
    const delivery: Promise<void> = this.deliver(m)
      .then((ok) => void (delivered = ok))
      .catch((err) =>
        this.log.error(
          { err, messageId: m.id },
          'outbox delivery could not be recorded; its lease will expire and it is retried',
        ),
      )
      .finally(() => {
        this.deliveries.delete(delivery);
        this.inFlight.delete(m.id);
        if (this.starved) this.claimSoon();
      });
    this.deliveries.add(delivery);
    const outcome = delivery.then(() => delivered);
    this.inFlight.set(m.id, outcome);
    return outcome;
  }

  /**
   * One statement leases up to `limit` due messages (one durable unit of
   * work); on PostgreSQL, rows another instance is leasing at the same moment
   * are skipped rather than waited for. On SQLite, a worker that delivers
   * some topics only reads their ranges of `outbox_topic_due` (ownTopicsClaim; a
   * sweep now and then reads every due message, see sweepDue).
   */
  private async claim(limit: number, onlyId?: string): Promise<Claimed[]> {
    const now = this.clock.now().toISOString();
    const lease = new Date(this.clock.now().getTime() + this.leaseMs).toISOString();
    if (onlyId === undefined) {
      const sweep = this.sweepDue;
      this.sweepDue = false;
      if (!sweep && this.ownClaim) return this.ownClaim(now, lease, limit);
    }
    const postgres = this.dialect === 'postgres';
    return outboxStore.claim(this.db, { now, lease, limit, onlyId, topics: this.topics, postgres });
  }

  /**
   * On SQLite, for a worker that delivers some topics only: the claim of the first due messages of its
   * topics, read from their ranges of the `outbox_topic_due` index (outboxStore.topicsClaim says why).
   */
  private ownTopicsClaim(): ((now: string, lease: string, limit: number) => Promise<Claimed[]>) | undefined {
    const topics = this.dialect === 'sqlite' ? this.ownTopics() : undefined;
    if (!topics) return undefined;
    return outboxStore.topicsClaim(this.db, topics);
  }

  /**
   * The topics this worker delivers, when it delivers some only: its own
   * list, or its handlers' topics but the excepted ones (a message of a
   * topic nobody handles is found by the sweep, and given up).
   */
  private ownTopics(): readonly string[] | undefined {
    if (this.topics === undefined) return undefined;
    if ('only' in this.topics) return this.topics.only;
    const except = new Set(this.topics.except);
    const own = [...this.handlers.keys()].filter((t) => !except.has(t));
    return own.length ? own : undefined;
  }

  /** Resolves whether the handler succeeded (the message is done). */
  private deliver(m: Claimed): Promise<boolean> {
    // Under the correlation id it was queued with: the handler's calls and every log line of it carry it.
    return correlation.run(m.correlation_id, () => this.deliverNowIn(m));
  }

  private async deliverNowIn(m: Claimed): Promise<boolean> {
    const handler = this.handlers.get(m.topic);
    try {
      if (!handler) throw new PermanentFailure(`no handler for topic ${m.topic}`);
      await handler(JSON.parse(m.payload), m.id, m.attempts + 1);
      this.done(m.id);
      return true;
    } catch (err) {
      const attempts = m.attempts + 1;
      if (err instanceof RetryLater) {
        await outboxStore.failed(this.db, m.id, {
          attempts,
          error: err.message,
          at: err.at.toISOString(),
          status: 'pending',
        });
        return false;
      }
      // A handler's own PermanentFailure, or an error that says it is one (a peer's 4xx refusal).
      const permanent = err instanceof PermanentFailure || (err as { permanent?: unknown }).permanent === true;
      // Failed as often as the cap allows: a dead letter, for an operator, not retried for ever.
      const exhausted = !permanent && attempts >= this.maxAttempts;
      const backoff = Math.min(this.maxBackoffMs, 250 * 2 ** Math.min(attempts, 20));
      const jitter = Math.floor(Math.random() * (backoff / 4));
      const said = { topic: m.topic, messageId: m.id, attempts, err: (err as Error).message };
      if (permanent) this.log.error(said, 'outbox message given up: it was refused');
      else if (exhausted) this.log.error(said, 'outbox message given up as a dead letter: it failed too often');
      else this.log.warn(said, 'outbox delivery failed; will retry');
      await outboxStore.failed(this.db, m.id, {
        attempts,
        error: String((err as Error).message),
        at: new Date(this.clock.now().getTime() + backoff + jitter).toISOString(),
        status: permanent ? 'dead' : exhausted ? 'dead_letter' : 'pending',
      });
      if (permanent || exhausted) this.count?.({ event: 'outbox_given_up', topic: m.topic });
      return false;
    }
  }
}

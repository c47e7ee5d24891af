import type { Kysely } from 'kysely';
import type { Clock } from '../lib/clock.ts';
import { httpCall } from '../lib/http/http-client.ts';
import type { RandomSource } from '../lib/ids.ts';
import { notFound } from '../lib/errors.ts';
import type { Log } from '../lib/log.ts';
import type { CarrierTables } from './schema.ts';
import { setTimeout as sleep } from 'node:timers/promises';

export interface PhoneMessage {
  id: string;
  from: string;
  text: string;
  at: string;
}

/** "+86 138…", "008613…" → "8613…": how the carrier names a phone. */
export const digitsOf = (address: string) => address.replace(/[^\d]/g, '').replace(/^00/, '');

/** What CarrierService is built from. */
export interface CarrierServiceDeps {
  db: Kysely<CarrierTables>;
  random: RandomSource;
  clock: Clock;
  log: Log;
  /** Number → get-url template of the service that receives SMS sent to it. */
  routes: Record<string, string>;
  defaultReplyTo: string;
}

/**
 * A stand-in phone network: takes SMS the way Kannel's sendsms does, keeps
 * what each phone received, and hands a phone's replies to whichever service
 * owns the number it was sent to (as Kannel's sms-service get-url does, with
 * %p sender, %P receiver and %a text substituted).
 */
export class CarrierService {
  private seq = 0;
  /**
   * The requests waiting for a phone's next SMS (`inbox` with `wait`), by phone: each one's settle function,
   * called with true when an SMS for the phone is recorded, false when the carrier stops. The carrier is one
   * process (development only), so an in-process signal is all a waiting request needs.
   */
  private readonly waiters = new Map<string, Set<(arrived: boolean) => void>>();
  /** Set once the carrier stops: nothing waits any more. */
  private released = false;

  constructor(private readonly deps: CarrierServiceDeps) {}

  async init(): Promise<void> {
    const row = await this.deps.db
      .selectFrom('messages')
      .select((eb) => eb.fn.max('seq').as('max'))
      .executeTakeFirst();
    this.seq = Number(row?.max ?? 0);
  }

  /** A mobile-terminated SMS reaches the phone. */
  async deliver(to: string, from: string, text: string): Promise<string> {
    return this.record(digitsOf(to), 'mt', from, text);
  }

  /** Records a message of the phone's (`peer`: the other number), next in the carrier's order; its id. */
  private async record(phone: string, direction: 'mt' | 'mo', peer: string, text: string): Promise<string> {
    const id = this.deps.random.id('msg');
    const at = this.deps.clock.now().toISOString();
    await this.deps.db
      .insertInto('messages')
      .values({ id, seq: ++this.seq, phone, direction, peer, text, at })
      .execute();
    // Committed: the requests waiting for this phone's next SMS read it now (they re-read; the event carries nothing).
    if (direction === 'mt') for (const settle of [...(this.waiters.get(phone) ?? [])]) settle(true);
    return id;
  }

  /**
   * What the phone received, oldest first; with `afterId` (a message it
   * already has), only what came after it, as a phone that syncs asks: a
   * client polling for the next SMS then reads one row, not the whole history.
   * With `wait.ms`, an empty answer is held until an SMS for the phone arrives
   * (then read again) or the time passes (then empty), as a phone is pushed its
   * SMS instead of asking every few milliseconds; `wait.signal` (the client
   * went away) ends the wait early.
   */
  async inbox(
    phone: string,
    afterId?: string,
    wait: { ms?: number; signal?: AbortSignal } = {},
  ): Promise<PhoneMessage[]> {
    const digits = digitsOf(phone);
    if (!wait.ms) return this.read(digits, afterId);
    const deadline = performance.now() + wait.ms;
    for (;;) {
      // Listening before reading: an SMS recorded while the read runs still wakes this request.
      const next = this.nextMessage(digits, deadline - performance.now(), wait.signal);
      const messages = await this.read(digits, afterId).catch((err: unknown) => {
        next.cancel();
        throw err;
      });
      if (messages.length > 0) {
        next.cancel();
        return messages;
      }
      if (!(await next.arrived)) return [];
    }
  }

  /** How many requests wait for a phone's next SMS now (each is dropped when it answers or its client goes). */
  waiting(): number {
    let n = 0;
    for (const set of this.waiters.values()) n += set.size;
    return n;
  }

  /** The carrier stops: every waiting request answers what it has (nothing), and no new one waits. */
  releaseWaiters(): void {
    this.released = true;
    for (const set of [...this.waiters.values()]) for (const settle of [...set]) settle(false);
  }

  /**
   * A wait for the phone's next SMS of at most `ms`: `arrived` is true if one was recorded, false when the
   * time passed, the signal aborted, the carrier stopped or `cancel` was called. Whichever comes first
   * removes the waiter and clears its timer.
   */
  private nextMessage(phone: string, ms: number, signal?: AbortSignal) {
    let resolve!: (arrived: boolean) => void;
    const arrived = new Promise<boolean>((r) => (resolve = r));
    const set = this.waiters.get(phone) ?? new Set<(arrived: boolean) => void>();
    const settle = (value: boolean) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', cancel);
      set.delete(settle);
      if (set.size === 0 && this.waiters.get(phone) === set) this.waiters.delete(phone);
      resolve(value);
    };
    const cancel = () => settle(false);
    const timer = setTimeout(cancel, Math.max(0, ms));
    set.add(settle);
    this.waiters.set(phone, set);
    signal?.addEventListener('abort', cancel, { once: true });
    if (this.released || signal?.aborted) cancel();
    return { arrived, cancel };
  }

  /** The phone's received SMS after `afterId` (all of them without it), oldest first. */
  private async read(digits: string, afterId: string | undefined): Promise<PhoneMessage[]> {
    let after = 0;
    if (afterId !== undefined) {
      const known = await this.deps.db
        .selectFrom('messages')
        .select('seq')
        .where('id', '=', afterId)
        .where('phone', '=', digits)
        .where('direction', '=', 'mt')
        .executeTakeFirst();
      if (!known) throw notFound('MESSAGE_NOT_FOUND', 'The message to read after');
      after = known.seq;
    }
    const rows = await this.deps.db
      .selectFrom('messages')
      .selectAll()
      .where('phone', '=', digits)
      .where('direction', '=', 'mt')
      .where('seq', '>', after)
      .orderBy('seq')
      .execute();
    return rows.map((r) => ({ id: r.id, from: r.peer, text: r.text, at: r.at }));
  }

  async thread(phone: string) {
    return this.deps.db
      .selectFrom('messages')
      .selectAll()
      .where('phone', '=', digitsOf(phone))
      .orderBy('seq')
      .execute();
  }

  /** The phone replies: to `to`, else to the last number that texted it, else the default number. */
  async reply(phone: string, text: string, to?: string): Promise<{ id: string; to: string }> {
    const digits = digitsOf(phone);
    let target = to;
    if (!target) {
      const last = await this.deps.db
        .selectFrom('messages')
        .select('peer')
        .where('phone', '=', digits)
        .where('direction', '=', 'mt')
        .orderBy('seq', 'desc')
        .limit(1)
        .executeTakeFirst();
      target = last?.peer ?? this.deps.defaultReplyTo;
    }
    const id = await this.record(digits, 'mo', target, text);
    await this.route(digits, target, text);
    return { id, to: target };
  }

  private async route(from: string, to: string, text: string): Promise<void> {
    const template = this.deps.routes[to];
    if (!template) {
      this.deps.log.info({ to }, 'reply to a number no service owns; dropped');
      return;
    }
    const url = template
      .replace('%p', encodeURIComponent(from))
      .replace('%P', encodeURIComponent(to))
      .replace('%a', encodeURIComponent(text));
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const res = await httpCall(url, { timeoutMs: 10_000 });
        if (res.ok) return;
        if (res.status < 500) {
          this.deps.log.warn({ status: res.status }, 'service refused a reply');
          return;
        }
      } catch (err) {
        this.deps.log.warn({ err: (err as Error).message }, 'could not hand a reply over; retrying');
      }
      await sleep(200 * 2 ** attempt);
    }
  }

  /** Calls a sendsms dlr-url the way Kannel does: %d is the report type, %F the message id. */
  reportDelivery(dlrUrl: string, mask: number, id: string): void {
    const types = [8, 1].filter((t) => mask & t);
    void (async () => {
      for (const type of types) {
        await sleep(20);
        const url = dlrUrl.replace('%d', String(type)).replace('%F', encodeURIComponent(id));
        await httpCall(url, { timeoutMs: 5000 }).catch((err) =>
          this.deps.log.warn({ err: (err as Error).message }, 'delivery report failed'),
        );
      }
    })();
  }
}

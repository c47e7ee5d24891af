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
    return id;
  }

  /**
   * What the phone received, oldest first; with `afterId` (a message it
   * already has), only what came after it, as a phone that syncs asks: a
   * client polling for the next SMS then reads one row, not the whole history.
   */
  async inbox(phone: string, afterId?: string): Promise<PhoneMessage[]> {
    const digits = digitsOf(phone);
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

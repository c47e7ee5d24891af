import pg from 'pg';
import { sql, type Kysely } from 'kysely';
import type { Log } from '../../lib/log.ts';
import type { OrderEvents, OrderNews } from '../core/order-events.ts';
import { setTimeout as sleep } from 'node:timers/promises';

/** The channel order changes are announced on; a payload is `{"id": …, "version": …}` (the version when known). */
export const ORDER_CHANGED_CHANNEL = 'tvpay_order_changed';
const CHANNEL = ORDER_CHANGED_CHANNEL;

/**
 * Rows whose change announced itself in its own statement (order-timeline.ts: the NOTIFY goes in the change's WITH
 * statement, delivered at its commit): publishing one sends no second NOTIFY.
 */
export const notifiedInStatement = new WeakSet<object>();

/**
 * The changes this instance announced in their own statement, as `id@version`, until their NOTIFY comes back
 * (at most OWN_KEPT, the oldest forgotten first; one whose transaction rolled back never comes back).
 */
const ownVersions = new Set<string>();
const OWN_KEPT = 10_000;
/**
 * How long the NOTIFY of this instance's own change waits before it wakes the local streams. The writer
 * publishes the committed row itself right after its commit, and the NOTIFY, delivered at that same commit,
 * often arrived first: with only a version, each stream that had not yet sent it read the order from the store
 * (one read a checkout). Woken after the row, a stream finds that version sent and reads nothing; if the row
 * never comes (the writer did not publish), the stream reads it as before, this much later.
 */
const OWN_SETTLE_MS = 50;

/** `row`'s change announced itself in its own statement (the NOTIFY in the change's WITH statement). */
export function announcedInStatement(row: { id: string; version: number }): void {
  notifiedInStatement.add(row);
  ownVersions.add(`${row.id}@${row.version}`);
  if (ownVersions.size > OWN_KEPT) ownVersions.delete(ownVersions.values().next().value!);
}

/** What a NOTIFY payload tells: the order, and its version if the payload has one (a plain id from older instances). */
export function parseAnnouncement(payload: string): { orderId: string; news: OrderNews } | undefined {
  if (!payload.startsWith('{')) return { orderId: payload, news: {} };
  try {
    const p = JSON.parse(payload) as { id?: unknown; version?: unknown };
    if (typeof p.id !== 'string') return undefined;
    return { orderId: p.id, news: typeof p.version === 'number' ? { version: p.version } : {} };
  } catch {
    return undefined;
  }
}

/**
 * Carries order changes between back-end instances that share a PostgreSQL
 * database: each change is announced with NOTIFY, and every instance LISTENs
 * and wakes its own event streams, so a TV connected to one instance sees a
 * payment completed through another. A change made through the order
 * timeline's `changed` announced itself in its own statement; the others are
 * announced here after their commit. The version in the payload lets a
 * listener that has already shown that version (the writer itself) skip the
 * read. The listening connection reconnects with backoff if it drops.
 */
export class PgOrderEvents {
  private client: pg.Client | undefined;
  private stopped = false;
  private retryMs = 250;

  constructor(
    private readonly url: string,
    private readonly db: Kysely<any>,
    private readonly events: OrderEvents,
    private readonly log: Log,
    private readonly ownSettleMs = OWN_SETTLE_MS,
  ) {
    // Until LISTEN holds, another instance's change could go unheard.
    events.setHearing(false);
  }

  async start(): Promise<void> {
    this.events.onPublish((orderId, news) => {
      if (news.row && notifiedInStatement.has(news.row)) return;
      const payload = JSON.stringify(news.row ? { id: orderId, version: news.row.version } : { id: orderId });
      sql`select pg_notify(${CHANNEL}, ${payload})`
        .execute(this.db)
        .catch((err) => this.log.warn({ err: (err as Error).message }, 'could not announce an order change'));
    });
    await this.listen();
  }

  private async listen(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({ connectionString: this.url });
    client.on('notification', (msg) => {
      const heard = msg.channel === CHANNEL && msg.payload ? parseAnnouncement(msg.payload) : undefined;
      if (!heard) return;
      const own = heard.news.version !== undefined && ownVersions.delete(`${heard.orderId}@${heard.news.version}`);
      if (!own) return this.events.wake(heard.orderId, heard.news);
      setTimeout(() => this.events.wake(heard.orderId, heard.news), this.ownSettleMs).unref();
    });
    client.on('error', () => void this.reconnect(client));
    client.on('end', () => void this.reconnect(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      this.client = client;
      this.retryMs = 250;
      this.events.setHearing(true);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'could not listen for order changes; retrying');
      await this.reconnect(client);
    }
  }

  private async reconnect(old: pg.Client): Promise<void> {
    if (this.stopped || (this.client && this.client !== old)) return;
    this.client = undefined;
    this.events.setHearing(false);
    old.removeAllListeners();
    // A dropped connection can report more than one error (the server's, then the socket's): with no
    // listener left, the next one would be an uncaught 'error' event, which ends the process.
    old.on('error', () => undefined);
    old.end().catch(() => undefined);
    await sleep(this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, 10_000);
    await this.listen();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const client = this.client;
    this.client = undefined;
    if (client) {
      client.removeAllListeners();
      client.on('error', () => undefined);
      await client.end().catch(() => undefined);
    }
  }
}

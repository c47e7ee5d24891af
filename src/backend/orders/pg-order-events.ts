import pg from 'pg';
import { sql, type Kysely } from 'kysely';
import type { Log } from '../../lib/log.ts';
import type { OrderEvents } from '../core/order-events.ts';
import { setTimeout as sleep } from 'node:timers/promises';

const CHANNEL = 'tvpay_order_changed';

/**
 * Carries order changes between back-end instances that share a PostgreSQL
 * database: each change is announced with NOTIFY, and every instance LISTENs
 * and wakes its own event streams, so a TV connected to one instance sees a
 * payment completed through another. The listening connection reconnects
 * with backoff if it drops.
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
  ) {
    // Until LISTEN holds, another instance's change could go unheard.
    events.setHearing(false);
  }

  async start(): Promise<void> {
    this.events.onPublish((orderId) => {
      sql`select pg_notify(${CHANNEL}, ${orderId})`
        .execute(this.db)
        .catch((err) => this.log.warn({ err: (err as Error).message }, 'could not announce an order change'));
    });
    await this.listen();
  }

  private async listen(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({ connectionString: this.url });
    client.on('notification', (msg) => {
      if (msg.channel === CHANNEL && msg.payload) this.events.wake(msg.payload);
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

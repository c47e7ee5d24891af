import { createHmac } from 'node:crypto';
import { sql } from 'kysely';
import { seal, unseal } from '../../lib/sealed.ts';
import { FINAL_STATUSES } from './order-state.ts';
import type { BackendDb, BackendTables } from '../schema.ts';

/** What of an order its link token comes from. */
export type LinkedOrder = Pick<BackendTables['orders'], 'id' | 'link_token_sealed'>;

/**
 * The checkout page's link tokens (the bearer secret in an order's `payUrl`). The back-end needs one to
 * text the link and to show the TV its QR code again and again, and never to check one (the payment
 * server does, by its hash): so it stores none. An order's token is an HMAC of its id under a key drawn
 * from the encryption key (which never goes into a database), recomputed whenever it is needed; a copy of
 * the data dir's databases or of a stored idempotency answer yields no link. Orders from before this
 * (whose random tokens the payment server already knows) keep theirs sealed under the same key until
 * they end (`sealLegacy`).
 */
export class LinkTokens {
  private readonly key: Buffer;

  constructor(private readonly encryptionKey: string) {
    this.key = createHmac('sha256', encryptionKey).update('tvpay checkout link tokens').digest();
  }

  /** The order's link token: 43 characters of base64url. */
  of(order: LinkedOrder): string {
    if (order.link_token_sealed) return unseal(this.encryptionKey, order.link_token_sealed);
    return createHmac('sha256', this.key).update(order.id).digest('base64url');
  }

  /**
   * Seals the plain link tokens rows kept before tokens were derived: an open order's (its link may be
   * in use), and drops an ended one's. Idempotent; run at every start, it finds nothing after the first.
   * On SQLite the rewritten rows' old bytes are zeroed (secure_delete, for this transaction only) and the
   * write-ahead log is emptied, so the plain tokens do not linger in the files.
   */
  async sealLegacy(db: BackendDb, sqlite = false): Promise<number> {
    const plain = await db
      .selectFrom('orders')
      .select(['id', 'status', 'link_token_sealed'])
      .where('link_token_sealed', '<>', '')
      .where('link_token_sealed', 'not like', 'v1.%')
      .execute();
    if (plain.length === 0) return 0;
    await db.transaction().execute(async (trx) => {
      if (sqlite) await sql`PRAGMA secure_delete = ON`.execute(trx);
      for (const o of plain) {
        const kept = FINAL_STATUSES.includes(o.status) ? '' : seal(this.encryptionKey, o.link_token_sealed);
        await trx
          .updateTable('orders')
          .set({ link_token_sealed: kept })
          .where('id', '=', o.id)
          .where('link_token_sealed', '=', o.link_token_sealed)
          .execute();
      }
      if (sqlite) await sql`PRAGMA secure_delete = OFF`.execute(trx);
    });
    // The write-ahead log still holds the pages as they were: copied back and emptied, when no reader holds
    // it (at start nothing does; else the log is reused as usual).
    if (sqlite) await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(db).catch(() => undefined);
    return plain.length;
  }
}

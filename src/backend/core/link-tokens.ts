import { createHmac } from 'node:crypto';
import { seal, unseal } from '../../lib/sealed.ts';
import { FINAL_STATUSES, type OrderStatus } from './order-state.ts';
import type { BackendTables } from '../schema.ts';

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
   * What a plain link token kept from before tokens were derived becomes (sealLegacyLinkTokens writes it):
   * an open order's is sealed (its link may be in use), an ended one's dropped.
   */
  keptForm(order: { status: OrderStatus; link_token_sealed: string }): string {
    return FINAL_STATUSES.includes(order.status) ? '' : seal(this.encryptionKey, order.link_token_sealed);
  }
}

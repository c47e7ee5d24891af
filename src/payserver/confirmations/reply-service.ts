import { crashPoint } from '../../lib/crash-points.ts';
import { inTransaction } from '../../lib/db/in-transaction.ts';
import type { Clock } from '../../lib/clock.ts';
import { affected } from '../../lib/db/affected.ts';
import { DomainError } from '../../lib/errors.ts';
import { normalizePhone } from '../../lib/phone.ts';
import { parseReplyCode } from '../../sms/reply-parser.ts';
import type { Settlement } from '../payments/settlement.ts';
import type { PayserverDb } from '../schema.ts';
import { codeHash } from './code-hash.ts';

export type ReplyOutcome = 'captured' | 'order_closed' | 'wrong_code' | 'confirmation_failed' | 'no_code' | 'no_pending' | 'unknown_sender';

/**
 * Takes a phone's SMS reply (claim 3): finds the pending payment whose code
 * it carries and captures it; a wrong code counts against every pending
 * payment of the phone, and the fifth wrong one fails the payment
 * (CONFIRMATION_FAILED) and releases its hold.
 */
export class ReplyService {
  constructor(
    private readonly db: PayserverDb,
    private readonly settlement: Settlement,
    private readonly clock: Clock,
    private readonly options: { codeKey: string; regions: readonly string[]; maxWrongCodes: number },
    private readonly kick: () => void,
  ) {}

  async handle(from: string, text: string): Promise<ReplyOutcome> {
    let phone: string;
    try {
      phone = normalizePhone(from, this.options.regions);
    } catch (err) {
      if (err instanceof DomainError) return 'unknown_sender';
      throw err;
    }
    const code = parseReplyCode(text);
    if (!code) return 'no_code';
    const now = this.clock.now().toISOString();
    const pending = await this.db
      .selectFrom('payments')
      .selectAll()
      .where('phone', '=', phone)
      .where('status', '=', 'pending')
      .where('method', '=', 'sms_code')
      .where('code_hash', 'is not', null)
      .where('code_expires_at', '>', now)
      .execute();
    if (pending.length === 0) return 'no_pending';
    const match = pending.find(
      (p) => p.code_hash === codeHash(this.options.codeKey, { id: p.id, amountMinor: Number(p.amount_minor), phone: p.phone }, code),
    );
    const outcome = await inTransaction(this.db, async (trx): Promise<ReplyOutcome> => {
      if (match) {
        const fresh = await trx.selectFrom('payments').selectAll().where('id', '=', match.id).where('status', '=', 'pending').executeTakeFirst();
        if (!fresh) return 'no_pending';
        return (await this.settlement.capture(trx, fresh)) ? 'captured' : 'order_closed';
      }
      let failed = false;
      for (const p of pending) {
        const res = await trx
          .updateTable('payments')
          .set((eb) => ({ wrong_replies: eb('wrong_replies', '+', 1) }))
          .where('id', '=', p.id)
          .where('status', '=', 'pending')
          .executeTakeFirst();
        if (affected(res) !== 1) continue;
        const after = await trx.selectFrom('payments').selectAll().where('id', '=', p.id).executeTakeFirstOrThrow();
        if (after.wrong_replies >= this.options.maxWrongCodes) failed = (await this.settlement.fail(trx, after, 'CONFIRMATION_FAILED')) || failed;
      }
      return failed ? 'confirmation_failed' : 'wrong_code';
    });
    if (outcome === 'captured') crashPoint('payserver.after-capture');
    this.kick();
    return outcome;
  }
}

import type { PayserverCore } from '../feature.ts';
import type { Ledger } from '../ledger/ledger.ts';
import { Settlement } from './settlement.ts';

/** How a payment is settled (captured, failed, released), whichever channel brought it. */
export function createSettlement(core: Pick<PayserverCore, 'random' | 'clock' | 'config'>, deps: { ledger: Ledger }) {
  return new Settlement(deps.ledger, core.random, core.clock, core.config.sms.payserverFrom);
}

import type { Offers, PayserverCore } from '../feature.ts';
import { payserverConsole } from './payserver-console.ts';

/** The wallet provider's operators' console: accounts, payments, statements and rails, over the admin API. */
export function createConsole(core: Pick<PayserverCore, 'secrets' | 'random' | 'clock' | 'config' | 'db' | 'limiter'>) {
  const { config } = core;
  return {
    pages: (scope) =>
      payserverConsole(scope, {
        adminToken: core.secrets.adminToken,
        random: core.random,
        clock: core.clock,
        timeZone: config.businessTimeZone,
        db: core.db,
        limiter: core.limiter,
        publicUrl: config.publicUrls.payserver,
      }),
  } satisfies Offers;
}

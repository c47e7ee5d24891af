import { consoleSetup } from '../../lib/console/console-app.ts';
import type { Offers, PayserverCore } from '../feature.ts';
import { payserverConsole } from './payserver-console.ts';

/** The wallet provider's operators' console: accounts, payments, statements and rails, over the admin API. */
export function createConsole(core: Pick<PayserverCore, 'secrets' | 'random' | 'clock' | 'config' | 'db' | 'limiter'>) {
  return {
    pages: (scope) => payserverConsole(scope, consoleSetup(core, core.config.publicUrls.payserver)),
  } satisfies Offers;
}

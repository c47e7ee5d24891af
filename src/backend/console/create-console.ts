import { consoleSetup } from '../../lib/console/console-app.ts';
import type { BackendCore, Offers } from '../core/feature.ts';
import { backendConsole } from './backend-console.ts';

/** The operators' console: pages behind a login with the admin token, kept in a cookie. */
export function createConsole(core: Pick<BackendCore, 'db' | 'secrets' | 'random' | 'clock' | 'config' | 'limiter'>) {
  return {
    pages: (scope) => backendConsole(scope, consoleSetup(core, core.config.publicUrls.backend)),
  } satisfies Offers;
}

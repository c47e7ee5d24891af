import type { BackendCore, Offers } from '../feature.ts';
import { backendConsole } from './backend-console.ts';

/** The operators' console: pages behind a login with the admin token, kept in a cookie. */
export function createConsole(core: Pick<BackendCore, 'db' | 'secrets' | 'random' | 'clock' | 'config' | 'limiter'>) {
  const { config } = core;
  return {
    pages: (scope) =>
      backendConsole(scope, {
        adminToken: core.secrets.adminToken,
        random: core.random,
        clock: core.clock,
        timeZone: config.businessTimeZone,
        db: core.db,
        limiter: core.limiter,
        publicUrl: config.publicUrls.backend,
      }),
  } satisfies Offers;
}

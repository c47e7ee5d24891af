import type { Offers, PayserverCore } from '../feature.ts';
import { statementInternalRoute, statementRoutes } from './statements-routes.ts';

/** The wallet provider's daily statement: for the operators (CSV or JSON), and signed for the back-end. */
export function createStatements(core: Pick<PayserverCore, 'db' | 'config'>) {
  const timeZone = core.config.businessTimeZone;
  return {
    admin: (scope) => statementRoutes(scope, core.db, timeZone),
    internal: (app, signed) => statementInternalRoute(app, core.db, timeZone, signed),
  } satisfies Offers;
}

import { serviceBasics, type Offers, type PayserverCore } from '../feature.ts';
import type { RailRegistry } from '../rails/registry.ts';
import { agreementsRoutes } from './agreements-routes.ts';
import { Agreements } from './agreements.ts';

/** The phones' quick-pay agreements at the rails, and the operators' routes to read and end them. */
export function createAgreements(
  core: Pick<PayserverCore, 'db' | 'random' | 'clock' | 'work' | 'config'>,
  deps: { rails: Pick<RailRegistry, 'get'> },
) {
  const { config } = core;
  const service = new Agreements({
    ...serviceBasics(core),
    rails: deps.rails,
    options: { smsFrom: config.sms.payserverFrom, locale: config.sms.locale },
  });
  return {
    service,
    admin: (scope) => agreementsRoutes(scope, service, config.phoneRegions),
  } satisfies Offers;
}

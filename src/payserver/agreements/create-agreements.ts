import type { Offers, PayserverCore } from '../feature.ts';
import type { RailRegistry } from '../rails/registry.ts';
import { agreementsRoutes } from './agreements-routes.ts';
import { Agreements } from './agreements.ts';

/** The phones' quick-pay agreements at the rails, and the operators' routes to read and end them. */
export function createAgreements(
  core: Pick<PayserverCore, 'db' | 'random' | 'clock' | 'kick' | 'config'>,
  deps: { rails: Pick<RailRegistry, 'get'> },
) {
  const { config } = core;
  const service = new Agreements({
    db: core.db,
    rails: deps.rails,
    random: core.random,
    clock: core.clock,
    kick: core.kick,
    options: { smsFrom: config.sms.payserverFrom, locale: config.sms.locale },
  });
  return {
    service,
    admin: (scope) => agreementsRoutes(scope, service, config.phoneRegions),
  } satisfies Offers;
}

import type { BackendCore, Offers } from '../core/feature.ts';
import type { OrdersService } from '../orders/orders-service.ts';
import { tvRailRoutes } from './rails-routes.ts';
import { RailsService } from './rails-service.ts';

/** How long the back-end keeps the list of rails that are on (each TV opening "check your phone" asks). */
const RAILS_CACHE_MS = 5000;

/** Rails: the money rails that are on, and a rail's QR code for a TV's own order. */
export function createRails(
  core: Pick<BackendCore, 'provider' | 'clock' | 'config' | 'log'>,
  deps: { orders: Pick<OrdersService, 'getOwn'> },
) {
  const { orders } = deps;
  const service = new RailsService({
    provider: core.provider,
    ownOrder: (device, orderId) => orders.getOwn(device, orderId),
    clock: core.clock,
    payee: core.config.merchantName,
    log: core.log.child({ part: 'rails' }),
    cacheMs: RAILS_CACHE_MS,
  });
  return { tv: (scope) => tvRailRoutes(scope, service) } satisfies Offers;
}

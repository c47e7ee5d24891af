import type { BackendCore, Offers } from '../core/feature.ts';
import { adminProductRoutes, ProductsService, tvProductRoutes } from './products.ts';

/** The catalogue: the packages a TV offers, kept by operators, and each one's current terms. */
export function createCatalogue(core: Pick<BackendCore, 'db' | 'clock'>) {
  const service = new ProductsService(core.db, core.clock);
  return {
    service,
    admin: (scope) => adminProductRoutes(scope, service),
    tv: (scope) => tvProductRoutes(scope, service),
  } satisfies Offers;
}

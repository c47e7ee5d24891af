import type { BackendCore, Offers } from '../core/feature.ts';
import { entitlementRoutes } from './entitlements.ts';

/** Entitlements: what a paid order provisioned, as a TV reads it. */
export function createEntitlements(core: Pick<BackendCore, 'db'>) {
  return { tv: (scope) => entitlementRoutes(scope, core.db) } satisfies Offers;
}

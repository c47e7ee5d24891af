import type { BackendCore, Offers } from '../core/feature.ts';
import { adminDeviceRoutes, DevicesService } from './devices.ts';

/** Devices: the TVs operators register, whose tokens admit the TV routes. */
export function createDevices(core: Pick<BackendCore, 'db' | 'random' | 'clock'>) {
  const service = new DevicesService(core.db, core.random, core.clock);
  return { service, admin: (scope) => adminDeviceRoutes(scope, service) } satisfies Offers;
}

import { DomainError } from '../../lib/errors.ts';
import type { Rail, RailName } from './rail.ts';

/** The rails that are on at this payment server, built once at start. */
export interface RailRegistry {
  /** The rails on, in a stable order (Alipay, then WeChat Pay). */
  readonly on: readonly Rail[];
  get(name: string): Rail | undefined;
  /** The rail named, or 409 RAIL_UNAVAILABLE when it is off. */
  require(name: string): Rail;
  /** Whether any rail runs against a development gateway (the banner and pages say no real money moves). */
  readonly anyDev: boolean;
}

/** A registry over the rails built for this start; a rail is on when it is in the list. */
export function railRegistry(rails: readonly Rail[]): RailRegistry {
  const byName = new Map<RailName, Rail>(rails.map((r) => [r.name, r]));
  if (byName.size !== rails.length) throw new Error('a rail was built twice');
  const on = [...rails].sort((a, b) => a.name.localeCompare(b.name));
  return {
    on,
    anyDev: on.some((r) => r.mode === 'dev'),
    get: (name) => byName.get(name as RailName),
    require(name) {
      const rail = byName.get(name as RailName);
      if (!rail) throw new DomainError('RAIL_UNAVAILABLE', `The rail ${name} is off at this payment server.`);
      return rail;
    },
  };
}

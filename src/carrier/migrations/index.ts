import type { Migration } from 'kysely';
import { messageTables } from './0001-carrier.ts';

/** The migrations in the order they run; a key is the name the database records, so it never changes. */
export const carrierMigrations: Record<string, Migration> = {
  '0001_carrier': messageTables,
};

import type { Migration } from 'kysely';
import { devAlipayTables } from './0001-dev-alipay.ts';

/** The migrations in the order they run; a key is the name the database records, so it never changes. */
export const devAlipayMigrations: Record<string, Migration> = {
  '0001_dev_alipay': devAlipayTables,
};

import type { Migration } from 'kysely';
import { devWechatpayTables } from './0001-dev-wechatpay.ts';

/** The migrations in the order they run; a key is the name the database records, so it never changes. */
export const devWechatpayMigrations: Record<string, Migration> = {
  '0001_dev_wechatpay': devWechatpayTables,
};

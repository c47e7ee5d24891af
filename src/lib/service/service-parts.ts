import type { Kysely } from 'kysely';
import type { Config } from '../../config/config.ts';
import type { Secrets } from '../../config/secrets.ts';
import type { SmsGateway } from '../../sms/gateway.ts';
import type { Clock } from '../clock.ts';
import type { CommonTables } from '../db/common-tables.ts';
import type { RandomSource } from '../ids.ts';
import type { Count } from '../metrics/service-metrics.ts';
import type { RateLimiter } from '../rate-limiter.ts';

/** What both services' features are built from, whatever their tables: each service's core extends it. */
export interface ServiceParts<Db> {
  db: Db;
  /** The same database, seen through the tables every service shares (outbox, limits, SMS log). */
  shared: Kysely<CommonTables>;
  config: Readonly<Config>;
  secrets: Secrets;
  clock: Clock;
  random: RandomSource;
  gateway: SmsGateway;
  limiter: RateLimiter;
  /** Counts the events an alert must see (the service's metrics). */
  count: Count;
}

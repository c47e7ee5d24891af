import type { Migration } from 'kysely';
import { rowCountsMigration, SMS_COUNTED } from '../../lib/metrics/row-counts.ts';
import { consoleSessionsMigration } from '../../lib/db/migrations/console-sessions.ts';
import * as common from '../../lib/db/migrations/common-tables.ts';
import { BACKEND_COUNTED } from '../schema.ts';
import { coreTables } from './0002-backend.ts';
import { oneOpenOrderPerDevice } from './0005-one-open-order-per-device.ts';
import { operations } from './0006-operations.ts';
import { subscriptions } from './0007-subscriptions.ts';
import { reconciliations } from './0008-reconciliations.ts';
import { triesLeft } from './0009-tries-left.ts';
import { wordsAndSource } from './0010-words-and-source.ts';
import { renewalDay } from './0013-renewal-day.ts';
import { renewalBackstops } from './0015-renewal-backstops.ts';
import { widePaidSource } from './0017-wide-paid-source.ts';
import { contestedMessages } from './0018-contested-messages.ts';
import { linkTokenSealed } from './0019-link-token-sealed.ts';
import { orderVersion } from './0020-order-version.ts';

/**
 * The back-end's migrations, in the order they run. A key is the name the database records for a
 * migration that ran, so a key never changes, and a migration is never edited: a change is a new one.
 */
export const backendMigrations: Record<string, Migration> = {
  '0001_common': common.commonTablesMigration,
  '0002_backend': coreTables,
  '0003_sms_ref': common.smsRefMigration,
  '0004_sms_gateway_id': common.smsGatewayIdMigration,
  '0005_one_open_order_per_device': oneOpenOrderPerDevice,
  '0006_operations': operations,
  '0007_subscriptions': subscriptions,
  '0008_reconciliations': reconciliations,
  '0009_tries_left': triesLeft,
  '0010_words_and_source': wordsAndSource,
  '0011_outbox_correlation': common.outboxCorrelationMigration,
  '0012_outbox_topic': common.outboxTopicMigration,
  '0013_renewal_day': renewalDay,
  '0014_row_counts': rowCountsMigration([...Object.values(BACKEND_COUNTED), SMS_COUNTED]),
  '0015_renewal_backstops': renewalBackstops,
  '0016_console_sessions': consoleSessionsMigration,
  '0017_wide_paid_source': widePaidSource,
  '0018_contested_messages': contestedMessages,
  '0019_link_token_sealed': linkTokenSealed,
  '0020_order_version': orderVersion,
};

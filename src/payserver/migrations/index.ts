import type { Migration } from 'kysely';
import { rowCountsMigration, SMS_COUNTED } from '../../lib/metrics/row-counts.ts';
import { consoleSessionsMigration } from '../../lib/db/migrations/console-sessions.ts';
import * as common from '../../lib/db/migrations/common-tables.ts';
import { PAYSERVER_COUNTED } from '../schema.ts';
import { coreTables } from './0002-payserver.ts';
import { refundTables } from './0005-refunds.ts';
import { renewals } from './0006-renewals.ts';
import { neverStarted } from './0007-never-started.ts';
import { checkoutCorrelation } from './0009-checkout-correlation.ts';
import { sweepIndexes } from './0011-sweep-indexes.ts';
import { railTrades } from './0014-rail-trades.ts';
import { railAgreements } from './0015-rail-agreements.ts';
import { holdRefunds } from './0016-hold-refunds.ts';

/**
 * The payment server's migrations, in the order they run. A key is the name the database records for a
 * migration that ran, so a key never changes, and a migration is never edited: a change is a new one.
 */
export const payserverMigrations: Record<string, Migration> = {
  '0001_common': common.commonTablesMigration,
  '0002_payserver': coreTables,
  '0003_sms_ref': common.smsRefMigration,
  '0004_sms_gateway_id': common.smsGatewayIdMigration,
  '0005_refunds': refundTables,
  '0006_renewals': renewals,
  '0007_never_started': neverStarted,
  '0008_outbox_correlation': common.outboxCorrelationMigration,
  '0009_checkout_correlation': checkoutCorrelation,
  '0010_outbox_topic': common.outboxTopicMigration,
  '0011_sweep_indexes': sweepIndexes,
  '0012_row_counts': rowCountsMigration([...Object.values(PAYSERVER_COUNTED), SMS_COUNTED]),
  '0013_console_sessions': consoleSessionsMigration,
  '0014_rail_trades': railTrades,
  '0015_rail_agreements': railAgreements,
  '0016_hold_refunds': holdRefunds,
};

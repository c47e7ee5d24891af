import type { Kysely } from 'kysely';
import type { RateLimiter, RateRule } from '../lib/rate-limiter.ts';
import { SMS_BUDGET_BUCKET } from './sms-admin-routes.ts';

/**
 * The day's SMS budget of one service (the circuit breaker against SMS
 * pumping): every SMS the service queues takes one from it, in the
 * transaction that queues the SMS, by one conditional statement.
 */
export class SmsBudget {
  constructor(
    private readonly limiter: RateLimiter,
    readonly rule: RateRule,
  ) {}

  /** Takes one SMS from today's budget; false, taking nothing, when it is used up. */
  take(trx: Kysely<any>): Promise<boolean> {
    return this.limiter.take(trx, SMS_BUDGET_BUCKET, this.rule);
  }

  /** The 429 problem for a send refused by the budget. */
  refusal() {
    return this.limiter.refusal({ rule: this.rule, retryAfterSeconds: 3600 });
  }
}

/** The rule of a service's daily SMS budget. */
export const smsBudgetRule = (limit: number): RateRule => ({
  what: "Today's SMS budget is used up; payments by SMS resume tomorrow",
  limit,
  windowSeconds: 24 * 3600,
  code: 'SMS_BUDGET_EXHAUSTED',
});

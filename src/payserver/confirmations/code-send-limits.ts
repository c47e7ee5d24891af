import type { RateRule } from '../../lib/rate-limiter.ts';

/** The limits on code SMS: per phone (code guessing, SMS bombing) and per TV (SMS pumping). */
export interface CodeSendRules {
  codeSendsPerPhone: RateRule;
  codeSendsPerDevice: RateRule;
}

/** The rate-limit buckets one code SMS counts against. */
export function codeSendBuckets(phone: string, deviceId: string, rules: CodeSendRules) {
  return [
    { key: `code-phone:${phone}`, rule: rules.codeSendsPerPhone },
    { key: `code-device:${deviceId}`, rule: rules.codeSendsPerDevice },
  ];
}

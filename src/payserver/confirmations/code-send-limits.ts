import type { Config } from '../../config/config.ts';
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

/** The code-send limits of the configuration (per phone and per TV, over one window). */
export function codeSendRules(limits: Config['limits']): CodeSendRules {
  const windowSeconds = limits.windowSeconds;
  return {
    codeSendsPerPhone: { what: 'codes sent to this phone', limit: limits.codeSendsPerPhone, windowSeconds },
    codeSendsPerDevice: { what: 'codes sent for this TV', limit: limits.codeSendsPerDevice, windowSeconds },
  };
}

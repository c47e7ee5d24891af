import { topic } from '../../lib/outbox/outbox.ts';

/**
 * The code SMS this feature sends: a payment's code (queued by a pre-pay, payments/) and the checkout
 * page's possession code (queued by the page, checkout/). Declared with their sender, which the features
 * that queue them build on.
 */
export const CODE_SMS_TOPIC = topic<{ paymentId: string; smsId: string }>('sms.code');
export const POSSESSION_SMS_TOPIC = topic<{ sessionId: string; smsId: string }>('sms.possession');

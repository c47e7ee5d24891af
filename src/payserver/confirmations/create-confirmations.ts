import { handler } from '../../lib/outbox/outbox.ts';
import { smsGatewayRoutes } from '../../sms/gateway-routes.ts';
import type { SmsBudget } from '../../sms/sms-budget.ts';
import { smsLog } from '../../sms/sms-log.ts';
import { serviceBasics, type Offers, type PayserverCore } from '../feature.ts';
import { CODE_SMS_TOPIC, POSSESSION_SMS_TOPIC } from './code-topics.ts';
import { DECLINED_SMS_TOPIC, type Settlement } from '../settlement/settlement.ts';
import { CodeSmsSender } from './code-sms-sender.ts';
import { CANCEL_REPLY_TOPIC, ReplyService, type ReplyServiceDeps } from './reply-service.ts';

type Core = Pick<
  PayserverCore,
  'db' | 'shared' | 'gateway' | 'limiter' | 'random' | 'clock' | 'work' | 'config' | 'secrets' | 'count' | 'backend'
>;

/**
 * Confirmations by SMS: the codes the outbox sends (a pre-pay's, the checkout page's possession code, a
 * declined notice), the phone's reply, and the SMS gateway's routes and link that bring replies and
 * delivery reports in. A cancel reply goes on to the back-end, which holds the subscriptions.
 */
export function createConfirmations(
  core: Core,
  deps: { settlement: Settlement; budget: SmsBudget; railCharges: ReplyServiceDeps['railCharges'] },
) {
  const { shared, clock, count } = core;
  const replies = replyService(core, deps);
  const codes = codeSender(core, deps);
  /** What an SMS link (SMPP) hands over: replies and delivery receipts. */
  const sms = {
    reply: (from: string, text: string) => replies.handle(from, text),
    receipt: async (gatewayId: string, status: 'delivered' | 'failed') => {
      const smsId = await smsLog.byGatewayIdSoon(shared, gatewayId);
      if (smsId && (await smsLog.report(shared, smsId, status, clock.now(), count))) await codes.deliveryFailed(smsId);
    },
  };
  return {
    replies,
    sms,
    open: (app) =>
      smsGatewayRoutes(app, {
        db: shared,
        inboundToken: core.secrets.smsInboundToken,
        clock,
        onReply: (from, text) => replies.handle(from, text),
        onUndelivered: (smsId) => codes.deliveryFailed(smsId),
        count,
      }),
    handlers: [
      handler(CODE_SMS_TOPIC, (p, id, attempt) => codes.sendPaymentCode(p, id, attempt)),
      handler(POSSESSION_SMS_TOPIC, (p) => codes.sendPossessionCode(p)),
      handler(DECLINED_SMS_TOPIC, (p) => codes.sendDeclined(p)),
      handler(
        CANCEL_REPLY_TOPIC,
        async (p) => void (await core.backend.post('/internal/v1/subscriptions/cancel-by-phone', p)),
      ),
    ],
  } satisfies Offers;
}

function replyService(core: Core, deps: Pick<ReplyServiceDeps, 'settlement' | 'budget' | 'railCharges'>) {
  const { config } = core;
  const rule = (what: string) => ({
    what,
    limit: config.limits.codeChecksPerPhone,
    windowSeconds: config.limits.windowSeconds,
  });
  return new ReplyService({
    ...serviceBasics(core, 'limiter'),
    ...deps,
    options: {
      codeKey: core.secrets.codeKey,
      regions: config.phoneRegions,
      maxWrongCodes: config.maxWrongCodes,
      codeChecksPerPhone: rule('code checks for this phone'),
      answersPerPhone: rule('answers to replies from this phone'),
      locale: config.sms.locale,
      payee: config.merchantName,
      smsFrom: config.sms.payserverFrom,
    },
  });
}

function codeSender(core: Core, deps: { settlement: Settlement; budget: SmsBudget }) {
  const { config } = core;
  return new CodeSmsSender({
    ...serviceBasics(core, 'gateway', 'count'),
    ...deps,
    options: {
      codeKey: core.secrets.codeKey,
      codeTtlSeconds: config.codeTtlSeconds,
      locale: config.sms.locale,
      from: config.sms.payserverFrom,
    },
  });
}

/**
 * A development WeChat Pay mounted on a Fastify app on a free port (as the carrier mounts it), the
 * WeChat Pay rail configured from its keys, and a notification receiver that hands each raw
 * notification to the rail and answers what the rail says (or a forced status, to test retries).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/lib/clock.ts';
import { createApp } from '../../src/lib/http/create-app.ts';
import { cryptoRandom } from '../../src/lib/ids.ts';
import { createLogger } from '../../src/lib/log.ts';
import { buildDevWechatpay } from '../../src/dev-rails/wechatpay/dev-wechatpay.ts';
import type { DevWechatpayKeys } from '../../src/dev-rails/wechatpay/keys.ts';
import type { NotificationVerdict, Rail, TradeTerms } from '../../src/payserver/rails/rail.ts';
import { createWechatpayRail, type WechatpayRailOptions } from '../../src/payserver/rails/wechatpay/wechatpay-rail.ts';
import { devWechatpayOptions } from '../../src/payserver/rails/build-rails.ts';
import { eventually } from './eventually.ts';
import { freePorts } from './ports.ts';

export function railOptionsFor(keys: DevWechatpayKeys, origin: string, clock: ManualClock): WechatpayRailOptions {
  const urls = { baseUrl: `${origin}/dev/wechatpay/`, notifyUrl: `${origin}/notify` };
  return { ...devWechatpayOptions(keys, urls, clock), timeoutMs: 10_000 };
}

/**
 * Starts a page payment on the rail that also signs an agreement numbered `agreement` for the demo's bound
 * phone; the cashier sends the payer back to `returnUrl`.
 */
export const startPayAndSign = (rail: Rail, terms: TradeTerms, returnUrl: string, agreement: string) =>
  rail.start({
    ...terms,
    kind: 'redirect',
    returnUrl,
    payerClientIp: '203.0.113.9',
    sign: { externalAgreementNo: agreement, phone: '+8613800138000' },
  });

export async function startDevWechatpay() {
  const dataDir = mkdtempSync(join(tmpdir(), 'dev-wechatpay-'));
  const clock = new ManualClock(Date.now());
  const [port] = await freePorts(1);
  const origin = `http://127.0.0.1:${port}`;
  const log = createLogger('silent');
  const gateway = buildDevWechatpay({ dataDir, clock, random: cryptoRandom, log, publicUrl: origin });
  const app = await createApp({ log, title: 'dev WeChat Pay test', ready: async () => true });
  /** When set, rewrites API answers' bodies after they were signed (a man in the middle). */
  const tamper: { fn?: (body: string) => string } = {};
  app.addHook('onSend', async (req, _reply, payload) =>
    tamper.fn && typeof payload === 'string' && req.url.startsWith('/dev/wechatpay/v3/') ? tamper.fn(payload) : payload,
  );
  gateway.routes(app);
  const rail: Rail = createWechatpayRail(railOptionsFor(gateway.keys, origin, clock));
  const verdicts: NotificationVerdict[] = [];
  /** Statuses the receiver answers before it lets the rail answer (e.g. [500] makes the first attempt fail). */
  const forced: number[] = [];
  app.post('/notify', { schema: { body: { type: 'object' } } }, async (req, reply) => {
    const status = forced.shift();
    if (status !== undefined) return reply.code(status).send({ code: 'FAIL', message: 'forced' });
    const verdict = await rail.parseNotification({ headers: req.headers, body: req.rawBody ?? Buffer.alloc(0) });
    verdicts.push(verdict);
    reply.code(verdict.answer.status).type(verdict.answer.contentType);
    return reply.send(verdict.answer.body);
  });
  // Where a payer lands back at the merchant after the cashier (a stand-in for tvpay's checkout page).
  app.get('/back', async (_req, reply) => reply.type('text/plain').send('back at the merchant'));
  await app.listen({ port, host: '127.0.0.1' });
  return {
    origin,
    dataDir,
    clock,
    gateway,
    keys: gateway.keys,
    rail,
    tamper,
    verdicts,
    forced,
    /** Waits for a verified event of `type` (about `key`, when given) and returns it. */
    async event<T extends string>(type: T, key?: (e: any) => boolean): Promise<any> {
      return eventually(() => {
        const v = verdicts.find((x) => x.ok && x.event.type === type && (!key || key(x.event)));
        if (!v || !v.ok) throw new Error(`no ${type} notification yet`);
        return v.event;
      });
    },
    async close() {
      await app.close();
      await gateway.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export type DevWechatpayHarness = Awaited<ReturnType<typeof startDevWechatpay>>;

/** Submits a form like a browser, without following the redirect. */
export async function postForm(url: string, fields: Record<string, string>): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
    redirect: 'manual',
  });
}

/**
 * The development WeChat Pay's API v3 routes: every request's `Authorization` is verified first (as
 * WeChat Pay does, before reading the body), then one service call, then the answer is signed
 * (`Wechatpay-*` headers) so the merchant's unchanged plugin believes it.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DevWechatpayKeys } from './keys.ts';
import { signedHeaders, verifyRequest } from './protocol.ts';
import type { DevWechatpayService, WxAnswer } from './service.ts';

const OBJECT_BODY = { body: { type: 'object' } } as const;

/** Sends an answer signed at the wall clock's second, which is what the plugin judges answers by. */
function send(reply: FastifyReply, keys: DevWechatpayKeys, answer: WxAnswer): FastifyReply {
  const body = answer.status === 204 || !answer.body ? '' : JSON.stringify(answer.body);
  reply.headers(signedHeaders(body, keys, Math.floor(Date.now() / 1000))).code(answer.status);
  if (body === '') return reply.send();
  return reply.type('application/json; charset=utf-8').send(body);
}

type Call = (req: FastifyRequest) => Promise<WxAnswer>;
const body = (req: FastifyRequest) => (req.body ?? {}) as Record<string, any>;
const param = (req: FastifyRequest, name: string) => (req.params as Record<string, string>)[name]!;
const query = (req: FastifyRequest) => req.query as Record<string, unknown>;

/** The API v3 calls the development WeChat Pay answers: method, path, and the service call behind it. */
function calls(service: DevWechatpayService): Array<['GET' | 'POST', string, Call]> {
  return [
    ['POST', '/v3/pay/transactions/native', (r) => service.createOrder('NATIVE', body(r))],
    ['POST', '/v3/pay/transactions/h5', (r) => service.createOrder('MWEB', body(r))],
    ['GET', '/v3/pay/transactions/out-trade-no/:no', (r) => service.query(param(r, 'no'), query(r).mchid)],
    ['POST', '/v3/pay/transactions/out-trade-no/:no/close', (r) => service.close(param(r, 'no'), body(r))],
    ['POST', '/v3/refund/domestic/refunds', (r) => service.refund(body(r))],
    ['GET', '/v3/refund/domestic/refunds/:no', (r) => service.queryRefund(param(r, 'no'))],
    ['POST', '/v3/papay/sign/contracts/pre-entrust-sign/h5', (r) => service.presign(body(r))],
    ['POST', '/v3/papay/pay/transactions/apply', (r) => service.applyPapay(body(r))],
    ['POST', '/v3/papay/contracts/:id/terminate', (r) => service.terminate(param(r, 'id'), body(r))],
    ['GET', '/v3/bill/tradebill', (r) => service.tradeBill(query(r))],
  ];
}

/** Verifies a request's signature as WeChat Pay does; the refusal to send, or undefined when it verifies. */
function refusalOf(req: FastifyRequest, keys: DevWechatpayKeys) {
  const raw = { method: req.method, url: req.url, authorization: req.headers.authorization };
  return verifyRequest(
    { ...raw, body: req.rawBody ? req.rawBody.toString('utf8') : '' },
    keys,
    Math.floor(Date.now() / 1000),
  );
}

/** Mounts API v3 (relative to the gateway's prefix). */
export function apiRoutes(app: FastifyInstance, service: DevWechatpayService, keys: DevWechatpayKeys): void {
  // Each call: the signature verified first (a bad one is 401 `SIGN_ERROR` and nothing runs), then the service.
  for (const [method, url, call] of calls(service))
    app.route({
      method,
      url,
      ...(method === 'POST' ? { schema: OBJECT_BODY } : {}),
      handler: async (req, reply) => {
        const refusal = refusalOf(req, keys);
        if (refusal) return send(reply, keys, { status: refusal.status, body: refusal });
        return send(reply, keys, await call(req));
      },
    });
  // The download is signed by the merchant like any call, and answered unsigned (its hash was signed).
  app.get('/v3/billdownload/file', async (req, reply) => {
    const refusal = refusalOf(req, keys);
    if (refusal) return send(reply, keys, { status: refusal.status, body: refusal });
    const file = await service.download(String(query(req).token ?? ''));
    if (file === undefined)
      return send(reply, keys, { status: 404, body: { code: 'RESOURCE_NOT_EXISTS', message: '下载链接已失效' } });
    return reply.type('text/plain; charset=utf-8').send(Buffer.from(file, 'utf8'));
  });
}

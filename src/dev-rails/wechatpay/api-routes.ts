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

/** Mounts API v3 (relative to the gateway's prefix). */
// eslint-disable-next-line max-lines-per-function -- 79 lines; to be split into named pieces (issue 29)
export function apiRoutes(app: FastifyInstance, service: DevWechatpayService, keys: DevWechatpayKeys): void {
  /** Verifies the request's signature, then runs `fn`; a bad signature is 401 `SIGN_ERROR`, nothing runs. */
  const signed =
    (fn: (req: FastifyRequest) => Promise<WxAnswer>) =>
    async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
      const refusal = verifyRequest(
        {
          method: req.method,
          url: req.url,
          body: req.rawBody ? req.rawBody.toString('utf8') : '',
          authorization: req.headers.authorization,
        },
        keys,
        Math.floor(Date.now() / 1000),
      );
      if (refusal) return send(reply, keys, { status: refusal.status, body: refusal });
      return send(reply, keys, await fn(req));
    };
  const body = (req: FastifyRequest) => (req.body ?? {}) as Record<string, any>;
  const param = (req: FastifyRequest, name: string) => (req.params as Record<string, string>)[name]!;

  app.post(
    '/v3/pay/transactions/native',
    { schema: OBJECT_BODY },
    signed((r) => service.createOrder('NATIVE', body(r))),
  );
  app.post(
    '/v3/pay/transactions/h5',
    { schema: OBJECT_BODY },
    signed((r) => service.createOrder('MWEB', body(r))),
  );
  app.get(
    '/v3/pay/transactions/out-trade-no/:no',
    signed((r) => service.query(param(r, 'no'), (r.query as Record<string, unknown>).mchid)),
  );
  app.post(
    '/v3/pay/transactions/out-trade-no/:no/close',
    { schema: OBJECT_BODY },
    signed((r) => service.close(param(r, 'no'), body(r))),
  );
  app.post(
    '/v3/refund/domestic/refunds',
    { schema: OBJECT_BODY },
    signed((r) => service.refund(body(r))),
  );
  app.get(
    '/v3/refund/domestic/refunds/:no',
    signed((r) => service.queryRefund(param(r, 'no'))),
  );
  app.post(
    '/v3/papay/sign/contracts/pre-entrust-sign/h5',
    { schema: OBJECT_BODY },
    signed((r) => service.presign(body(r))),
  );
  app.post(
    '/v3/papay/pay/transactions/apply',
    { schema: OBJECT_BODY },
    signed((r) => service.applyPapay(body(r))),
  );
  app.post(
    '/v3/papay/contracts/:id/terminate',
    { schema: OBJECT_BODY },
    signed((r) => service.terminate(param(r, 'id'), body(r))),
  );
  app.get(
    '/v3/bill/tradebill',
    signed((r) => service.tradeBill(r.query as Record<string, unknown>)),
  );
  // The download is signed by the merchant like any call, and answered unsigned (its hash was signed).
  app.get('/v3/billdownload/file', async (req, reply) => {
    const refusal = verifyRequest(
      { method: 'GET', url: req.url, body: '', authorization: req.headers.authorization },
      keys,
      Math.floor(Date.now() / 1000),
    );
    if (refusal) return send(reply, keys, { status: refusal.status, body: refusal });
    const file = await service.download(String((req.query as Record<string, unknown>).token ?? ''));
    if (file === undefined)
      return send(reply, keys, { status: 404, body: { code: 'RESOURCE_NOT_EXISTS', message: '下载链接已失效' } });
    return reply.type('text/plain; charset=utf-8').send(Buffer.from(file, 'utf8'));
  });
}

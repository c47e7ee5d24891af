import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { CONTENT_SECURITY_POLICY, sendDocument } from '../../lib/http/security-headers.ts';
import { beijingTime, fenToYuan, yuanToFen } from '../../payserver/rails/alipay/amounts.ts';
import { cashierPage, messagePage, scanPage } from './pages.ts';
import { DEFAULT_AGREEMENT_BALANCE_FEN, type DevAlipayService } from './service.ts';
import type { Trade } from './store.ts';
import { signedAnswer, signedParams } from './signing.ts';

export const PREFIX = '/dev/alipay';

type Keys = { appId: string; alipayPrivateKeyPem: string };

const Params = Type.Record(Type.String(), Type.String());
const TradeNo = Type.Object({ tradeNo: Type.String({ pattern: '^[0-9]{1,64}$' }) });

/** The cashier posts, then redirects to the merchant's `return_url` wherever it is. */
const cashierCsp = { ...CONTENT_SECURITY_POLICY, formAction: ["'self'", 'http:', 'https:'] };

/**
 * The development Alipay's HTTP face, under `/dev/alipay`: the OpenAPI 2.0 gateway (`gateway.do`, POST
 * for calls and GET for page calls), the cashier, the scan page and bill downloads. Thin: each route reads
 * its input and calls the service.
 */
export function devAlipayRoutes(app: FastifyInstance, service: DevAlipayService, keys: Keys): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const answer = (reply: FastifyReply, method: string, response: Record<string, unknown>) =>
    reply
      .type('application/json; charset=utf-8')
      .send(signedAnswer(method || 'error', response, keys.alipayPrivateKeyPem));

  r.post(
    `${PREFIX}/gateway.do`,
    { schema: { hide: true, querystring: Params, body: Type.Optional(Params) } },
    async (request, reply) => {
      // The SDK puts the common params in the URL and biz_content in the form body.
      const params = { ...(request.body ?? {}), ...request.query };
      const admitted = service.admit(params);
      if ('refused' in admitted) return answer(reply, params.method ?? '', admitted.refused);
      return answer(reply, params.method!, await service.call(params.method!, admitted.biz, params));
    },
  );

  r.get(`${PREFIX}/gateway.do`, { schema: { hide: true, querystring: Params } }, async (request, reply) => {
    const params = request.query;
    const admitted = service.admit(params);
    const refused = (why: Record<string, unknown>) =>
      sendDocument(
        reply.code(400),
        messagePage('请求被拒绝 / Request refused', `${String(why.sub_code)}: ${String(why.sub_msg)}`),
      );
    if ('refused' in admitted) return refused(admitted.refused);
    if (params.method !== 'alipay.trade.wap.pay')
      return refused({ sub_code: 'isv.invalid-method', sub_msg: params.method });
    const trade = await service.wapPay(admitted.biz, params);
    if ('code' in trade) return refused(trade);
    return reply.redirect(`${PREFIX}/cashier/${trade.trade_no}`, 302);
  });
  cashierRoutes(app, service, keys);
  scanAndBillRoutes(app, service, keys);
}

/** The cashier a wap.pay redirect lands on, and its answer: back to `return_url` with Alipay's signed params. */
function cashierRoutes(app: FastifyInstance, service: DevAlipayService, keys: Keys): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get(
    `${PREFIX}/cashier/:tradeNo`,
    { schema: { hide: true, params: TradeNo }, config: { contentSecurityPolicy: cashierCsp } },
    async (request, reply) => {
      const trade = await service.openCashier(request.params.tradeNo);
      if (!trade)
        return sendDocument(reply.code(404), messagePage('交易不存在 / No such trade', '请回到商户重新下单。'));
      return sendDocument(reply, cashierPage(trade, keys.appId, `${PREFIX}/cashier/${trade.trade_no}`));
    },
  );

  r.post(
    `${PREFIX}/cashier/:tradeNo`,
    {
      schema: {
        hide: true,
        params: TradeNo,
        body: Type.Object({
          action: Type.Union([Type.Literal('pay'), Type.Literal('pay_sign'), Type.Literal('decline')]),
          balance: Type.Optional(Type.String({ maxLength: 16 })),
        }),
      },
    },
    async (request, reply) => {
      const { action, balance } = request.body;
      const trade = await service.openCashier(request.params.tradeNo);
      if (!trade)
        return sendDocument(reply.code(404), messagePage('交易不存在 / No such trade', '请回到商户重新下单。'));
      const back = trade.return_url ?? undefined;
      if (action === 'decline')
        return sendDocument(reply, messagePage('已取消 / Declined', '没有付款。/ Nothing was paid.', back));
      const balanceFen = balance === undefined ? undefined : yuanToFen(balance);
      if (action === 'pay_sign' && balance !== undefined && balanceFen === undefined) {
        return sendDocument(
          reply.code(400),
          messagePage(
            '余额不正确 / Bad balance',
            '开发余额须为金额，如 1000.00。/ Give the dev balance in yuan, e.g. 1000.00.',
          ),
        );
      }
      const paid = await service.payerPays(
        trade.trade_no,
        action === 'pay_sign' ? { balanceFen: balanceFen ?? DEFAULT_AGREEMENT_BALANCE_FEN } : undefined,
      );
      if (typeof paid === 'string') return sendDocument(reply.code(409), messagePage('未付款 / Not paid', paid, back));
      if (!paid.return_url) return sendDocument(reply, messagePage('付款成功 / Paid', `¥${fenToYuan(paid.total_fen)}`));
      return reply.redirect(returnUrlOf(paid, paid.return_url, keys), 303);
    },
  );
}

/** The page a scan of a code that names no payable trade gets (whether it was opened or paid). */
const unknownCode = (reply: FastifyReply) =>
  sendDocument(reply.code(404), messagePage('二维码无效 / Unknown code', '这个二维码不是一笔可付的交易。'));

/** What the payer's app read from the QR code, asked for as a query (the page) or a form (paying). */
const SCANNED = Type.Object({ qr: Type.String({ maxLength: 200 }) });

/** What the payer's Alipay app does after scanning, and the bill downloads. */
function scanAndBillRoutes(app: FastifyInstance, service: DevAlipayService, keys: Keys): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get(`${PREFIX}/scan`, { schema: { hide: true, querystring: SCANNED } }, async (request, reply) => {
    const trade = await service.openScan(request.query.qr);
    if (!trade) return unknownCode(reply);
    return sendDocument(reply, scanPage(trade, keys.appId, request.query.qr, `${PREFIX}/scan`));
  });

  r.post(`${PREFIX}/scan`, { schema: { hide: true, body: SCANNED } }, async (request, reply) => {
    const trade = await service.openScan(request.body.qr);
    if (!trade) return unknownCode(reply);
    const paid = await service.payerPays(trade.trade_no);
    if (typeof paid === 'string') return sendDocument(reply.code(409), messagePage('未付款 / Not paid', paid));
    return sendDocument(reply, messagePage('付款成功 / Paid', `¥${fenToYuan(paid.total_fen)} — ${paid.subject}`));
  });

  // The payer ends an agreement in the Alipay app (解约): Alipay then sends `dut_user_unsign` to the merchant.
  r.post(
    `${PREFIX}/agreements/:agreementNo/unsign`,
    { schema: { hide: true, params: Type.Object({ agreementNo: Type.String({ pattern: '^[A-Za-z0-9]{1,64}$' }) }) } },
    async (request, reply) => {
      const answer = await service.unsign({ agreement_no: request.params.agreementNo });
      if (answer.code !== '10000')
        return sendDocument(
          reply.code(404),
          messagePage('未解约 / Not unsigned', String(answer.sub_msg ?? answer.msg)),
        );
      return sendDocument(reply, messagePage('已解约 / Unsigned', '商户将收到解约通知。/ The merchant is notified.'));
    },
  );

  r.get(
    `${PREFIX}/bills/:token`,
    { schema: { hide: true, params: Type.Object({ token: Type.String({ pattern: '^[A-Za-z0-9]{8,64}$' }) }) } },
    async (request, reply) => {
      const file = await service.billFile(request.params.token);
      if (!file) return reply.code(404).type('text/plain; charset=utf-8').send('the link has expired or never existed');
      return reply
        .type('application/zip')
        .header('content-disposition', `attachment; filename="${file.name}"`)
        .send(file.zip);
    },
  );
}

/** The synchronous return: the merchant's `return_url` with Alipay's signed params added. */
function returnUrlOf(paid: Trade, returnUrl: string, keys: Keys): string {
  const sync = signedParams(
    {
      method: 'alipay.trade.wap.pay.return',
      app_id: keys.appId,
      auth_app_id: keys.appId,
      charset: 'utf-8',
      version: '1.0',
      timestamp: beijingTime(new Date(paid.paid_at!)),
      out_trade_no: paid.out_trade_no,
      trade_no: paid.trade_no,
      total_amount: fenToYuan(paid.total_fen),
      seller_id: keys.appId,
    },
    keys.alipayPrivateKeyPem,
  );
  const url = new URL(returnUrl);
  for (const [k, v] of Object.entries(sync)) url.searchParams.set(k, v);
  return url.toString();
}

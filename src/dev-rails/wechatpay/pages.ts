/**
 * The development WeChat Pay's pages: the h5 cashier (`h5_url`), the scan page (what the WeChat app would
 * do with a `code_url`), the contract signing page, and a day's bill. Each says plainly that no real
 * money moves. Forms post back here, then the payer goes back to the merchant's `redirect_url`.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { html, page, type Html } from '../../lib/html.ts';
import { CONTENT_SECURITY_POLICY, sendDocument } from '../../lib/http/security-headers.ts';
import { fenToYuan } from '../../payserver/rails/wechatpay/wire.ts';
import { DEFAULT_CONTRACT_BALANCE_FEN, type DevWechatpayService } from './service.ts';
import type { TransactionRow } from './store.ts';

/** The banner every page carries. */
export const DEV_BANNER = '开发用微信支付 — 不会有真实资金流动 / Development WeChat Pay: no real money moves';

const FORM_BODY = { body: { type: 'object' } } as const;
/** A form here ends in a redirect to the merchant (another origin), which `form-action` must allow. */
const PAGE_CONFIG = {
  config: { contentSecurityPolicy: { ...CONTENT_SECURITY_POLICY, formAction: ["'self'", 'http:', 'https:'] } },
};

function wxPage(reply: FastifyReply, title: string, body: Html, status = 200): FastifyReply {
  const banner = html`<p class="error" role="note">${DEV_BANNER}</p>`;
  return sendDocument(
    reply.code(status),
    page({ title, lang: 'zh-CN', body: html`<main>${banner}<h1>${title}</h1>${body}</main>` }),
  );
}

/** A trade's page while it can be paid: its card, then what the payer can do; once it cannot, its state alone. */
function tradePage(reply: FastifyReply, t: TransactionRow, merchant: { mchId: string }, title: string, form: Html) {
  if (t.trade_state !== 'NOTPAY')
    return wxPage(reply, `订单状态 ${t.trade_state} / Order ${t.trade_state}`, tradeCard(t, merchant));
  return wxPage(
    reply,
    title,
    html`${tradeCard(t, merchant)}
        ${form}`,
  );
}

function tradeCard(t: TransactionRow, merchant: { mchId: string }): Html {
  return html`<div class="card">
    <div class="row"><span>商户 / Merchant</span><span>tvpay (${merchant.mchId})</span></div>
    <div class="row"><span>商品 / Description</span><span>${t.description}</span></div>
    <div class="row"><span>订单号 / Trade</span><span>${t.out_trade_no}</span></div>
    <div class="amount">¥${fenToYuan(t.total)}</div>
  </div>`;
}

const isHttp = (u: unknown): u is string => typeof u === 'string' && /^https?:\/\//.test(u);
const field = (body: unknown, name: string): string => String((body as Record<string, unknown>)?.[name] ?? '');

function balanceOf(text: string): number {
  return /^\d{1,12}$/.test(text) ? Number(text) : DEFAULT_CONTRACT_BALANCE_FEN;
}

/** Mounts the pages (relative to the gateway's prefix). */
export function pageRoutes(app: FastifyInstance, service: DevWechatpayService, publicUrl: string): void {
  cashierRoutes(app, service, publicUrl);
  scanRoutes(app, service, publicUrl);
  signRoutes(app, service, publicUrl);
  devRoutes(app, service);
}

/** The h5 cashier: pay, pay and sign (when the redirect goes on to a signing page), or decline. */
function cashierRoutes(app: FastifyInstance, service: DevWechatpayService, publicUrl: string): void {
  const signPrefix = `${publicUrl}/dev/wechatpay/sign?session=`;
  const sessionOf = (redirectUrl: string) =>
    redirectUrl.startsWith(signPrefix) ? redirectUrl.slice(signPrefix.length) : undefined;

  app.get('/cashier', PAGE_CONFIG, async (req, reply) => {
    const q = req.query as Record<string, unknown>;
    const t = await service.tradeByKey(String(q.prepay_id ?? ''));
    if (!t || t.trade_type !== 'MWEB') return wxPage(reply, '订单不存在 / No such order', html``, 404);
    const back = isHttp(q.redirect_url) ? q.redirect_url : '';
    const sessionId = sessionOf(back);
    const session = sessionId ? await service.session(sessionId) : undefined;
    const signPart = session
      ? html`<label>开发余额(分) / Development balance (fen)
            <input name="balance_fen" inputmode="numeric" value="${DEFAULT_CONTRACT_BALANCE_FEN}"></label>
          <button name="action" value="pay_sign">支付并签约 / Pay and sign (${session.display_account})</button>`
      : html``;
    const form = html`<form method="post" action="${publicUrl}/dev/wechatpay/cashier">
          <input type="hidden" name="prepay_id" value="${t.access_key}">
          <input type="hidden" name="redirect_url" value="${back}">
          <button name="action" value="pay">支付 / Pay</button>
          ${signPart}
          <button class="secondary" name="action" value="decline">拒绝 / Decline</button>
        </form>`;
    return tradePage(reply, t, service.merchant, '微信支付 / WeChat Pay', form);
  });

  app.post('/cashier', { schema: FORM_BODY }, async (req, reply) => {
    const t = await service.tradeByKey(field(req.body, 'prepay_id'));
    if (!t || t.trade_type !== 'MWEB') return wxPage(reply, '订单不存在 / No such order', html``, 404);
    const action = field(req.body, 'action');
    const back = field(req.body, 'redirect_url');
    const sessionId = sessionOf(back);
    const session = sessionId ? await service.session(sessionId) : undefined;
    let target = back;
    if (action === 'pay' || action === 'pay_sign') {
      const paid = await service.pay(t.out_trade_no);
      if (paid === 'closed')
        return wxPage(reply, '订单已关闭 / The order is closed', tradeCard(t, service.merchant), 409);
      if (action === 'pay_sign' && session) {
        await service.sign(session.id, balanceOf(field(req.body, 'balance_fen')));
        target = session.return_url;
      }
    } else if (session) {
      target = session.return_url;
    }
    if (!isHttp(target)) return wxPage(reply, '已完成 / Done', tradeCard(t, service.merchant));
    return reply.redirect(target, 303);
  });
}

/** What the WeChat app does with a `code_url`: shows the trade and pays it. */
function scanRoutes(app: FastifyInstance, service: DevWechatpayService, publicUrl: string): void {
  app.get('/scan', PAGE_CONFIG, async (req, reply) => {
    const code = String((req.query as Record<string, unknown>).code_url ?? '');
    const m = /^weixin:\/\/wxpay\/bizpayurl\?pr=([A-Za-z0-9_-]+)$/.exec(code);
    const t = m ? await service.tradeByKey(m[1]!) : undefined;
    if (!t || t.trade_type !== 'NATIVE') return wxPage(reply, '二维码无效 / Unknown code', html``, 404);
    const form = html`<form method="post" action="${publicUrl}/dev/wechatpay/scan">
          <input type="hidden" name="code_url" value="${code}">
          <button>支付 / Pay</button>
        </form>`;
    return tradePage(reply, t, service.merchant, '扫码支付 / Scan to pay', form);
  });

  app.post('/scan', { schema: FORM_BODY }, async (req, reply) => {
    const m = /^weixin:\/\/wxpay\/bizpayurl\?pr=([A-Za-z0-9_-]+)$/.exec(field(req.body, 'code_url'));
    const t = m ? await service.tradeByKey(m[1]!) : undefined;
    if (!t || t.trade_type !== 'NATIVE') return wxPage(reply, '二维码无效 / Unknown code', html``, 404);
    const paid = await service.pay(t.out_trade_no);
    if (paid === 'closed')
      return wxPage(reply, '订单已关闭 / The order is closed', tradeCard(t, service.merchant), 409);
    return wxPage(reply, '支付成功 / Paid', tradeCard(t, service.merchant));
  });
}

/** The papay signing page a pre-sign session leads to. */
function signRoutes(app: FastifyInstance, service: DevWechatpayService, publicUrl: string): void {
  app.get('/sign', PAGE_CONFIG, async (req, reply) => {
    const s = await service.session(String((req.query as Record<string, unknown>).session ?? ''));
    if (!s) return wxPage(reply, '签约已失效 / The signing has expired', html``, 404);
    return wxPage(
      reply,
      '开通免密支付 / Sign a papay contract',
      html`<div class="card"><div class="row"><span>商户 / Merchant</span><span>tvpay</span></div>
          <div class="row"><span>账户 / Account</span><span>${s.display_account}</span></div>
          <div class="row"><span>协议号 / Contract</span><span>${s.out_contract_code}</span></div></div>
        <form method="post" action="${publicUrl}/dev/wechatpay/sign">
          <input type="hidden" name="session" value="${s.id}">
          <label>开发余额(分) / Development balance (fen)
            <input name="balance_fen" inputmode="numeric" value="${DEFAULT_CONTRACT_BALANCE_FEN}"></label>
          <button name="action" value="sign">签约 / Sign</button>
          <button class="secondary" name="action" value="decline">拒绝 / Decline</button>
        </form>`,
    );
  });

  app.post('/sign', { schema: FORM_BODY }, async (req, reply) => {
    const s = await service.session(field(req.body, 'session'));
    if (!s) return wxPage(reply, '签约已失效 / The signing has expired', html``, 404);
    if (field(req.body, 'action') === 'sign') await service.sign(s.id, balanceOf(field(req.body, 'balance_fen')));
    return reply.redirect(s.return_url, 303);
  });
}

/** Development-only knobs and views: a contract's payer balance, a day's bill. */
function devRoutes(app: FastifyInstance, service: DevWechatpayService): void {
  // The development payer's balance under a contract: set it to make papay's NOT_ENOUGH happen.
  app.post('/contracts/:id/balance', { schema: FORM_BODY }, async (req, reply) => {
    const fen = field(req.body, 'balance_fen');
    if (!/^\d{1,12}$/.test(fen)) return reply.code(400).send({ code: 'PARAM_ERROR', message: 'balance_fen: fen' });
    const ok = await service.setBalance((req.params as Record<string, string>).id!, Number(fen));
    return ok ? reply.code(204).send() : reply.code(404).send({ code: 'CONTRACT_NOT_EXIST', message: 'no contract' });
  });

  // The payer ends a contract in the WeChat app (解约): WeChat Pay then sends `PAPAY.TERMINATE` (`DELETE`).
  app.post('/contracts/:id/terminate', async (req, reply) => {
    const answer = await service.payerTerminates((req.params as Record<string, string>).id!);
    if (answer.status !== 204) return wxPage(reply, '未解约 / Not terminated', html``, answer.status);
    return wxPage(reply, '已解约 / Terminated', html`<p>商户将收到解约通知。/ The merchant is notified.</p>`);
  });

  app.get('/bills/:day', async (req, reply) => {
    const day = (req.params as Record<string, string>).day!;
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return reply.code(400).send({ code: 'PARAM_ERROR', message: 'YYYY-MM-DD' });
    return reply.type('text/csv; charset=utf-8').send(await service.billFile(day));
  });
}

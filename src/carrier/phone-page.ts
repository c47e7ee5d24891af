import { html, page, type Html } from '../lib/html.ts';
import type { CarrierTables } from './schema.ts';

const CSS = `
main{display:flex;flex-direction:column;min-height:100vh;padding:0}
header{background:#fff;padding:14px 16px;border-bottom:1px solid #e3e6ea;font-weight:600}
.thread{flex:1;padding:16px;display:flex;flex-direction:column;gap:10px}
.bubble{max-width:82%;padding:10px 14px;border-radius:18px;white-space:pre-wrap;word-break:break-word}
.mt{align-self:flex-start;background:#fff;box-shadow:0 1px 2px rgba(0,0,0,.08)}
.mo{align-self:flex-end;background:#1f6fd6;color:#fff}
.meta{font-size:13px;color:#7a828c;margin-top:2px}
form.reply{position:sticky;bottom:0;display:flex;gap:8px;padding:10px;background:#fff;border-top:1px solid #e3e6ea}
form.reply input{flex:1;font-size:18px;padding:10px;border:1px solid #c9d1dc;border-radius:20px}
form.reply button{width:auto;margin:0;min-height:44px;padding:0 18px;border-radius:20px}
.mo a{color:#fff}
.mt .meta{color:#5f6b7a}
.mo .meta{color:#fff}
form.scan{display:flex;gap:8px;align-items:flex-end;padding:8px 10px;background:#f4f6f8;border-top:1px solid #e3e6ea}
form.scan label{flex:1;font-size:14px;color:#3d4652}
form.scan input{display:block;width:100%;font-size:15px;padding:8px;border:1px solid #c9d1dc;border-radius:8px}
form.scan button{width:auto;margin:0;min-height:40px;padding:0 12px;border-radius:8px}
#status{position:sticky;top:0;background:#fff4d6;color:#5c4400;padding:8px 16px;font-size:14px;
  border-bottom:1px solid #e9d9a6}
`;

const linkify = (text: string) => {
  const parts = text.split(/(https?:\/\/[^\s【】]+)/g);
  return parts.map((p, i) => (i % 2 ? html`<a href="${p}">${p}</a>` : html`${p}`));
};

/** The development phone's SMS app: the thread, links that open, a reply box; refreshes when an SMS arrives. */
/** The development rails whose "scan" pages this phone can open (the payer's app after scanning the TV's QR). */
export interface DevScanners {
  alipay: boolean;
  wechatpay: boolean;
}

/**
 * What the phone's apps would do with a QR code on the TV: a form per development rail that opens its scan
 * page with the code's text (`qrText`, pasted or typed), so the scan-to-pay flow runs by hand on one machine.
 */
function scanForms(scanners: DevScanners): Html {
  const form = (action: string, field: string, label: string, placeholder: string) =>
    html`<form class="scan" method="get" action="${action}"><label>${label}\
<input name="${field}" autocomplete="off" placeholder="${placeholder}" required></label>\
<button type="submit">扫一扫 / Scan</button></form>`;
  const alipay = scanners.alipay
    ? form('/dev/alipay/scan', 'qr', '支付宝扫码 / Alipay scan', 'https://qr.alipay.com/…')
    : html``;
  const wechatpay = scanners.wechatpay
    ? form('/dev/wechatpay/scan', 'code_url', '微信扫码 / WeChat scan', 'weixin://wxpay/bizpayurl?pr=…')
    : html``;
  return html`${alipay}${wechatpay}`;
}

export function phonePage(
  digits: string,
  messages: CarrierTables['messages'][],
  scanners: DevScanners = { alipay: false, wechatpay: false },
): string {
  const bubbles = messages.map(
    (m) =>
      html`<div class="bubble ${m.direction}" data-id="${m.id}">${linkify(m.text)}\
<div class="meta">${m.direction === 'mt' ? m.peer : `→ ${m.peer}`} · ${m.at.slice(11, 19)}</div></div>`,
  );
  // Polls for new SMS; while the carrier does not answer (it restarts) it says so and keeps polling,
  // and once it answers again it reloads, so the thread is the carrier's again.
  const received = String(messages.filter((m) => m.direction === 'mt').length);
  const script = html`<script>(function(){var n=${received},lost=false,s=document.getElementById('status');\
setInterval(function(){fetch('/dev/v1/phones/${digits}/messages',{cache:'no-store'})\
.then(function(r){if(!r.ok)throw new Error(String(r.status));return r.json()})\
.then(function(list){if(lost||list.length!==n)location.reload()})\
.catch(function(){lost=true;s.hidden=false})},1500)})();</script>`;
  return page({
    title: `+${digits}`,
    lang: 'zh-CN',
    css: CSS,
    body: html`<main><header>+${digits}</header>\
<div id="status" role="status" hidden>正在重新连接短信网关… / Reconnecting to the carrier…</div>\
<div class="thread" id="thread">${bubbles}</div>
${scanForms(scanners)}<form class="reply" method="post" action="/dev/phones/${digits}/reply">\
<input name="text" autocomplete="off" placeholder="短信 / SMS" required><button type="submit">发送</button></form>\
</main>${script}`,
  });
}

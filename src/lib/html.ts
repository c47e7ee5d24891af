/** Escapes text for HTML content and attribute values. */
export function esc(value: unknown): string {
  return String(value ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/** A tagged template that escapes every interpolation unless it is already `Html`. */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    const piece = Array.isArray(v)
      ? v.map((x) => (x instanceof Html ? x.value : esc(x))).join('')
      : v instanceof Html
        ? v.value
        : esc(v);
    out += piece + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

const BASE_CSS = `
*{box-sizing:border-box}
body{margin:0;font:18px/1.5 system-ui,-apple-system,"PingFang SC","Noto Sans CJK SC",sans-serif;background:#f3f5f8;
  color:#1b1f24}
main{max-width:480px;margin:0 auto;padding:20px 16px 40px}
h1{font-size:22px;margin:8px 0 16px}
.card{background:#fff;border-radius:14px;padding:18px;box-shadow:0 1px 3px rgba(0,0,0,.08);margin-bottom:16px}
.amount{font-size:40px;font-weight:700;letter-spacing:.5px}
.muted{color:#5b6470;font-size:16px}
.row{display:flex;justify-content:space-between;gap:12px;padding:6px 0;border-bottom:1px solid #eef0f3}
.row:last-child{border:0}
button,.btn{display:block;width:100%;min-height:52px;border:0;border-radius:12px;background:#1765d8;color:#fff;
  font-size:19px;font-weight:600;margin-top:14px;cursor:pointer}
button.secondary{background:#e8eef9;color:#1765d8}
input[type=text],input[inputmode]{width:100%;font-size:26px;letter-spacing:6px;padding:12px;border:2px solid #c9d1dc;
  border-radius:10px;text-align:center}
label.choice{display:flex;gap:12px;align-items:center;padding:12px;border:2px solid #dfe4ea;border-radius:12px;
  margin-top:10px}
fieldset{border:0;padding:0;margin:0}
fieldset.sources legend{font-size:19px;font-weight:600;margin-bottom:4px}
fieldset.consent{margin-top:18px;padding-top:12px;border-top:1px solid #eef0f3;font-size:15px;color:#3d4550}
fieldset.consent legend{font-size:14px;color:#5b6470;padding:0}
fieldset.consent label{display:flex;gap:8px;align-items:flex-start}
fieldset.consent input{width:20px;height:20px;flex:none;margin-top:2px}
button:disabled{opacity:.55;cursor:default}
.error{background:#fdecec;color:#a11;border-radius:10px;padding:12px;margin-bottom:14px}
.ok{background:#e7f6ec;color:#135c2c;border-radius:10px;padding:12px;margin-bottom:16px}
`;

export function page(opts: { title: string; lang: string; body: Html; css?: string; head?: Html }): string {
  return (
    `<!doctype html><html lang="${esc(opts.lang)}"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width,initial-scale=1">` +
    `<title>${esc(opts.title)}</title><style>${BASE_CSS}${opts.css ?? ''}</style>${opts.head?.value ?? ''}</head>` +
    `<body>${opts.body.value}</body></html>`
  );
}

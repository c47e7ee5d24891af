/** The consoles' look on a desktop screen, over the pages' base style. */
export const CONSOLE_CSS = `
body{font-size:15px;background:#f4f6f9}
main{max-width:1180px;padding:20px 24px 60px}
h1{font-size:24px}
h2{font-size:18px;margin:24px 0 8px}
.console header{display:flex;gap:20px;align-items:center;flex-wrap:wrap;background:#14213d;color:#fff;padding:10px 24px}
.console header nav{display:flex;gap:4px;flex-wrap:wrap;flex:1}
.console header a{color:#dbe6ff;text-decoration:none;padding:6px 10px;border-radius:6px}
.console header a:hover,.console header a:focus{background:#26385f;outline:2px solid #ffcc00}
button,.btn{display:inline-block;width:auto;min-height:36px;font-size:15px;padding:6px 16px;margin:0;border-radius:8px}
button.link{background:none;color:#dbe6ff;padding:6px 10px}
button.danger{background:#b3261e}
button.secondary{background:#e8eef9;color:#1765d8}
input,select,textarea{font-size:15px;padding:7px 9px;border:1px solid #b8c2d0;border-radius:6px;min-height:36px;
  background:#fff}
input[inputmode]{letter-spacing:0;width:auto;font-size:15px;text-align:left;padding:7px 9px;border-width:1px}
label{display:inline-flex;flex-direction:column;gap:4px;font-size:13px;color:#3d4550;margin-right:12px}
form.inline{display:flex;gap:10px;align-items:flex-end;flex-wrap:wrap;margin:10px 0}
.narrow{max-width:380px}
.narrow label,.narrow input{width:100%}
.narrow button{margin-top:12px}
table{border-collapse:collapse;width:100%;background:#fff;border-radius:10px;overflow:hidden;
  box-shadow:0 1px 2px rgba(0,0,0,.06);margin:8px 0 16px}
caption{text-align:left;font-weight:600;padding:8px 0}
th,td{text-align:left;padding:7px 10px;border-bottom:1px solid #eef0f3;vertical-align:top}
th{background:#f0f3f8;font-size:13px}
td form{margin:0}
.ok{margin:10px 0}
.error{margin:10px 0}
.muted{font-size:14px}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:6px 18px;background:#fff;padding:14px 18px;
  border-radius:10px}
dl.facts dt{color:#5b6470}
dl.facts dd{margin:0}
ol.timeline{list-style:none;padding:0;margin:0;background:#fff;border-radius:10px}
ol.timeline li{display:grid;grid-template-columns:170px 90px 1fr;gap:10px;padding:7px 12px;
  border-bottom:1px solid #eef0f3}
.kind{font-weight:600}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:16px}
figure{margin:0;background:#fff;border-radius:10px;padding:12px}
figcaption{font-weight:600;margin-bottom:6px}
.legend{display:flex;gap:14px;flex-wrap:wrap;font-size:13px}
.legend i{display:inline-block;width:12px;height:12px;border-radius:3px;margin-right:4px;vertical-align:-1px}
.token{font-family:ui-monospace,monospace;background:#fff8d6;padding:10px;border-radius:8px;word-break:break-all}
td{overflow-wrap:anywhere}
.num{white-space:nowrap;font-variant-numeric:tabular-nums}
.scroll{max-width:100%;overflow-x:auto}
.headline{display:grid;grid-template-columns:repeat(auto-fit,minmax(200px,1fr));gap:12px;margin:8px 0 16px}
.headline div{background:#fff;border-radius:10px;padding:12px 16px}
.headline dt{font-size:13px;color:#5b6470}
.headline dd{margin:4px 0 0;font-size:24px;font-weight:600}
.headline .delta{display:block;font-size:13px;font-weight:400;color:#5b6470}
.search{display:flex;gap:6px;align-items:center}
.search input{min-height:30px;padding:4px 8px;width:16em}
label.check{flex-direction:row;align-items:center;gap:6px;margin:4px 14px 4px 0;font-size:14px}
label.check input{min-height:0;width:auto;margin:0}
fieldset{margin:10px 0}
fieldset legend{font-size:13px;color:#3d4550}
[hidden]{display:none!important}
`;

import { closeSync, fdatasync, mkdtempSync, openSync, rmSync } from 'node:fs';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { codeSms, paymentReceiptSms } from '../../src/sms/templates.ts';
import type { ChainShape } from './checkout-chain.ts';

/**
 * The checkout's own limit (`limit-checkout`): the chain of HTTP exchanges a
 * tvpay bound-phone checkout makes, on bare `node:http` with no logic, and
 * the same units of durable work per service committed in shared (group)
 * commits, in one process as `npm start` runs tvpay. The paths are tvpay's,
 * so the bench's own checkout client drives both; the sizes and counts come
 * from a tvpay run measured in the same sitting (`ChainShape`).
 *
 * Started by the bench as `node bare-chain-server.ts <shape as JSON>`; prints
 * `ready`, then answers `GET /served` on the back-end port with what it served,
 * and `GET /cost` with its event loop's busy time and the part of it in SQLite.
 */
const shape = JSON.parse(process.argv[2]!) as ChainShape;
const dir = mkdtempSync(join(tmpdir(), 'tvpay-bare-chain-'));

/**
 * Durable units per service, committed together as tvpay's group commit does:
 * everything queued before the next turn of the event loop shares one commit,
 * whose WAL is then synced off the event loop (the units resolve once it is on
 * disk), and what queues during that sync shares the next commit.
 */
function groupCommit(file: string) {
  const db = new SqliteDatabase(join(dir, file));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('create table work (id integer primary key autoincrement, what text not null, at text not null)');
  const insert = db.prepare('insert into work (what, at) values (?, ?)');
  const commit = db.transaction((units: string[]) => {
    const at = new Date().toISOString();
    for (const u of units) insert.run(u, at);
  });
  const wal = openSync(join(dir, `${file}-wal`), 'r');
  let queued: Array<{ what: string; done: () => void }> = [];
  let owed = 0;
  let syncing = false;
  let flushQueued = false;
  const schedule = () => {
    if (flushQueued) return;
    flushQueued = true;
    setImmediate(flush);
  };
  const flush = () => {
    flushQueued = false;
    if (syncing || queued.length === 0) return;
    const batch = queued;
    queued = [];
    const since = process.hrtime.bigint();
    commit(batch.map((b) => b.what));
    sqlNs += Number(process.hrtime.bigint() - since);
    syncing = true;
    fdatasync(wal, (err) => {
      if (err) throw err;
      syncing = false;
      for (const b of batch) b.done();
      if (queued.length > 0) schedule();
    });
  };
  return {
    /** Commits `units` (fractional units accumulate, so the mean per checkout is the measured one). */
    work(what: string, units: number): Promise<void> {
      owed += units;
      const whole = Math.floor(owed);
      owed -= whole;
      if (whole === 0) return Promise.resolve();
      return new Promise((resolve) => {
        for (let i = 0; i < whole; i++) queued.push({ what, done: i === whole - 1 ? resolve : () => {} });
        schedule();
      });
    },
    close: () => {
      db.close();
      closeSync(wal);
    },
  };
}
/** Nanoseconds spent in SQLite (the commits' inserts and COMMITs), for `checkoutRatioCeiling`. */
let sqlNs = 0;
const stores = {
  backend: groupCommit('backend.db'),
  payserver: groupCommit('payserver.db'),
  carrier: groupCommit('carrier.db'),
};

const served: Record<string, number> = {};
const pad = (bytes: number, fields: Record<string, unknown>) => {
  const body = JSON.stringify(fields);
  return bytes > body.length + 12 ? JSON.stringify({ ...fields, pad: 'x'.repeat(bytes - body.length - 10) }) : body;
};
const bodyOf = (req: http.IncomingMessage) =>
  new Promise<string>((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (text += c));
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
function call(port: number, method: string, path: string, body?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent,
        headers:
          body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        bodyOf(res).then(resolve, reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
const send = (res: http.ServerResponse, status: number, body: string, type = 'application/json') => {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
};
const size = (route: string) => shape.sizes[route] ?? { requestBytes: 0, responseBytes: 0 };
const units = (service: 'backend' | 'payserver', route: string) => shape.unitsPerRequest[`${service} ${route}`] ?? 0;

interface Order {
  id: string;
  phone?: string;
  code?: string;
  fulfilled: boolean;
  streams: http.ServerResponse[];
}
const orders = new Map<string, Order>();
const pendingByPhone = new Map<string, Order>();
const inboxes = new Map<string, Array<{ id: string; from: string; text: string; at: string }>>();
let seq = 0;
let dlrOwed = 0;
const [backendPort, payserverPort, carrierPort] = shape.ports;

/** The carrier's sendsms: store the SMS for the phone, answer, then report delivery as Kannel does. */
async function sendSms(to: string, text: string) {
  const q = new URLSearchParams({
    username: 'tvpay',
    password: 'x'.repeat(32),
    from: '106900000001',
    to,
    text,
    charset: 'UTF-8',
    coding: '2',
    'dlr-mask': '31',
    'dlr-url': `http://127.0.0.1:${payserverPort}/v1/sms/dlr?token=${'t'.repeat(43)}&ref=${'r'.repeat(20)}&type=%d&id=%F`,
  });
  await call(carrierPort!, 'GET', `/cgi-bin/sendsms?${q}`);
}

const routes: Record<
  string,
  (req: http.IncomingMessage, res: http.ServerResponse, url: URL, parts: string[]) => Promise<void>
> = {
  // The back-end.
  async 'backend POST /v1/orders'(req, res) {
    await bodyOf(req);
    const id = `ord_${String(++seq).padStart(22, '0')}`;
    orders.set(id, { id, fulfilled: false, streams: [] });
    await stores.backend.work('order', units('backend', 'POST /v1/orders'));
    send(res, 201, pad(size('backend POST /v1/orders').responseBytes, { orderId: id, status: 'created' }));
  },
  async 'backend POST /v1/orders/:orderId/payer'(req, res, _url, parts) {
    const { phone } = JSON.parse(await bodyOf(req)) as { phone: string };
    const order = orders.get(parts[3]!)!;
    order.phone = `86${phone}`;
    await call(
      payserverPort!,
      'POST',
      '/internal/v1/bindings/lookup',
      pad(size('payserver POST /internal/v1/bindings/lookup').requestBytes, { phone: `+${order.phone}` }),
    );
    await call(
      payserverPort!,
      'POST',
      '/internal/v1/payments',
      pad(size('payserver POST /internal/v1/payments').requestBytes, { orderId: order.id, phone: `+${order.phone}` }),
    );
    await stores.backend.work('payer', units('backend', 'POST /v1/orders/:orderId/payer'));
    send(
      res,
      202,
      pad(size('backend POST /v1/orders/:orderId/payer').responseBytes, {
        orderId: order.id,
        status: 'awaiting_payment',
      }),
    );
  },
  async 'backend GET /v1/orders/:orderId/events'(_req, res, _url, parts) {
    const order = orders.get(parts[3]!)!;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    res.write(`event: order\ndata: ${JSON.stringify({ orderId: order.id, status: 'awaiting_payment' })}\n\n`);
    if (order.fulfilled)
      res.end(`event: order\ndata: ${JSON.stringify({ orderId: order.id, status: 'fulfilled' })}\n\n`);
    else order.streams.push(res);
  },
  async 'backend POST /internal/v1/payment-events'(req, res) {
    const { orderId } = JSON.parse(await bodyOf(req)) as { orderId: string };
    const order = orders.get(orderId)!;
    await stores.backend.work('paid', units('backend', 'POST /internal/v1/payment-events'));
    order.fulfilled = true;
    for (const s of order.streams.splice(0))
      s.end(`event: order\ndata: ${JSON.stringify({ orderId, status: 'fulfilled' })}\n\n`);
    send(res, 200, pad(size('backend POST /internal/v1/payment-events').responseBytes, { ok: true }));
  },
  // The payment server.
  async 'payserver POST /internal/v1/bindings/lookup'(req, res) {
    await bodyOf(req);
    await stores.payserver.work('lookup', units('payserver', 'POST /internal/v1/bindings/lookup'));
    send(res, 200, pad(size('payserver POST /internal/v1/bindings/lookup').responseBytes, { bound: true }));
  },
  async 'payserver POST /internal/v1/payments'(req, res) {
    const { orderId, phone } = JSON.parse(await bodyOf(req)) as { orderId: string; phone: string };
    const order = orders.get(orderId)!;
    order.code = String(100000 + (seq % 900000));
    pendingByPhone.set(phone.slice(1), order);
    await stores.payserver.work('payment', units('payserver', 'POST /internal/v1/payments'));
    send(
      res,
      200,
      pad(size('payserver POST /internal/v1/payments').responseBytes, {
        paymentId: `pay_${orderId}`,
        state: 'pending_confirmation',
      }),
    );
    void sendSms(
      phone.slice(1),
      codeSms('zh-CN', {
        product: '少儿乐园',
        payee: 'tvpay',
        code: order.code,
        source: 'wallet',
        amountMinor: 1500,
        currency: 'CNY',
      }),
    );
  },
  async 'payserver GET /v1/sms/inbound'(_req, res, url) {
    const from = url.searchParams.get('from')!;
    const order = pendingByPhone.get(from);
    await stores.payserver.work('reply', units('payserver', 'GET /v1/sms/inbound'));
    send(res, 200, '', 'text/plain');
    if (!order || url.searchParams.get('text') !== order.code) return;
    pendingByPhone.delete(from);
    await call(
      backendPort!,
      'POST',
      '/internal/v1/payment-events',
      pad(size('backend POST /internal/v1/payment-events').requestBytes, { orderId: order.id, outcome: 'paid' }),
    );
    await sendSms(
      from,
      paymentReceiptSms('zh-CN', {
        product: '少儿乐园',
        payee: 'tvpay',
        source: 'wallet',
        orderId: 'ord_receiptsrefnodigits',
        amountMinor: 1500,
        currency: 'CNY',
      }),
    );
  },
  async 'payserver GET /v1/sms/dlr'(_req, res) {
    await stores.payserver.work('dlr', units('payserver', 'GET /v1/sms/dlr'));
    send(res, 200, '', 'text/plain');
  },
  // The carrier.
  async 'carrier GET /cgi-bin/sendsms'(_req, res, url) {
    const to = url.searchParams.get('to')!;
    const text = url.searchParams.get('text')!;
    const inbox = inboxes.get(to) ?? [];
    inboxes.set(to, inbox);
    inbox.push({ id: `msg_${++seq}`, from: url.searchParams.get('from')!, text, at: new Date().toISOString() });
    await stores.carrier.work('sms', 1);
    send(res, 202, '0: Accepted for delivery', 'text/plain');
    // Kannel calls the dlr-url once per report type (accepted, then delivered): as many per SMS as tvpay got.
    const dlr = new URL(url.searchParams.get('dlr-url')!);
    dlrOwed += shape.dlrPerSms;
    for (; dlrOwed >= 1; dlrOwed--)
      void call(payserverPort!, 'GET', `${dlr.pathname}${dlr.search.replace('%d', '1').replace('%F', `msg_${seq}`)}`);
  },
  async 'carrier GET /dev/v1/phones/:digits/messages'(_req, res, url, parts) {
    const inbox = inboxes.get(parts[4]!) ?? [];
    const after = url.searchParams.get('after');
    const from = after === null ? 0 : inbox.findIndex((m) => m.id === after) + 1;
    // As tvpay's carrier: an id the phone never received is a 404, not the whole inbox.
    if (from === 0 && after !== null) send(res, 404, JSON.stringify({ code: 'MESSAGE_NOT_FOUND' }));
    else send(res, 200, JSON.stringify(inbox.slice(from)));
  },
  async 'carrier POST /dev/v1/phones/:digits/replies'(req, res, _url, parts) {
    const { text } = JSON.parse(await bodyOf(req)) as { text: string };
    await stores.carrier.work('reply', 1);
    const q = new URLSearchParams({ token: 't'.repeat(43), from: parts[4]!, to: '106900000001', text });
    await call(payserverPort!, 'GET', `/v1/sms/inbound?${q}`);
    send(res, 202, JSON.stringify({ accepted: true }));
  },
};

/** Matches `/v1/orders/<id>/payer` to `/v1/orders/:orderId/payer` by shape. */
function routeOf(service: string, method: string, path: string): string | undefined {
  const parts = path.split('/');
  for (const key of Object.keys(routes)) {
    const [s, m, pattern] = key.split(' ');
    if (s !== service || m !== method) continue;
    const want = pattern!.split('/');
    if (want.length === parts.length && want.every((w, i) => w.startsWith(':') || w === parts[i])) return key;
  }
  return undefined;
}

function serve(service: 'backend' | 'payserver' | 'carrier', port: number) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    if (service === 'backend' && url.pathname === '/served') return send(res, 200, JSON.stringify(served));
    // The event loop's busy time and the part of it in SQLite, since the start.
    if (service === 'backend' && url.pathname === '/cost')
      return send(res, 200, JSON.stringify({ loopMs: performance.eventLoopUtilization().active, sqlMs: sqlNs / 1e6 }));
    const key = routeOf(service, req.method!, url.pathname);
    if (!key) return send(res, 404, '{}');
    served[key] = (served[key] ?? 0) + 1;
    routes[key]!(req, res, url, url.pathname.split('/')).catch((err: Error) =>
      send(res, 500, JSON.stringify({ error: err.message })),
    );
  });
  server.keepAliveTimeout = 60_000;
  return new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
}

await serve('backend', backendPort!);
await serve('payserver', payserverPort!);
await serve('carrier', carrierPort!);
process.on('SIGTERM', () => {
  for (const s of Object.values(stores)) s.close();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
});
process.stdout.write('ready\n');

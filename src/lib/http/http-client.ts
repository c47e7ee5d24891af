import http from 'node:http';
import https from 'node:https';

/**
 * The most of an answer any outbound call reads. What tvpay needs of an answer is its status and, from
 * Kannel and the peer services, a few hundred bytes; a receiver that answers with more (a gigabyte, or
 * forever) must cost one call, never the process's memory (API.md, "Hardening").
 */
export const MAX_ANSWER_BYTES = 64 * 1024;

export interface HttpAnswer {
  status: number;
  ok: boolean;
  /** The answer's first MAX_ANSWER_BYTES at most, as UTF-8. */
  text: string;
  /** The answer went on beyond the cap: the rest was not read and the connection was closed. */
  truncated?: boolean;
}

/** The agents a call goes out through, one per protocol. */
export interface HttpAgents {
  'http:': http.Agent;
  'https:': https.Agent;
}

export interface HttpCall {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** The whole call, connection to last byte read; it fails with a timeout after this. */
  timeoutMs: number;
  /**
   * Where the connection comes from; the default keeps connections to the peer services alive. Webhooks
   * bring agents whose DNS lookup refuses forbidden addresses (webhooks/url-guard.ts).
   */
  agents?: HttpAgents;
}

// Kept-alive connections to the peer services; idle ones close before a Node server's 5 s keep-alive
// timeout would, so a request is rarely sent on a socket the other side is closing.
const peerAgents: HttpAgents = {
  'http:': new http.Agent({ keepAlive: true, timeout: 4000 }),
  'https:': new https.Agent({ keepAlive: true, timeout: 4000 }),
};

/**
 * One outbound HTTP request, the only way tvpay calls out (a signed message to a peer service, Kannel's
 * sendsms, a delivery report, a webhook, the fulfilment URL, the rails), on node:http with kept-alive
 * connections. It costs a fraction of the CPU of `fetch` (whose web streams and abort signals showed in
 * the checkout's profile; BENCHMARKS.md). It reads at most MAX_ANSWER_BYTES of the answer and then
 * destroys the socket, and the time-out covers the whole answer, so a receiver that trickles bytes
 * forever is cut too: the status decides, the body beyond the cap is never read.
 */
export function httpCall(url: string | URL, call: HttpCall): Promise<HttpAnswer> {
  const target = typeof url === 'string' ? new URL(url) : url;
  const secure = target.protocol === 'https:';
  const headers = { ...call.headers };
  if (call.body !== undefined) headers['content-length'] = String(Buffer.byteLength(call.body));
  const agent = (call.agents ?? peerAgents)[secure ? 'https:' : 'http:'];
  return new Promise((resolve, reject) => {
    let settled = false;
    const request = (secure ? https : http).request(
      target,
      { method: call.method ?? 'GET', headers, agent },
      (response) => readCapped(response, (answer) => settle(() => resolve(answer)), fail),
    );
    const timer = setTimeout(() => {
      const err = new Error(`${target.host} did not answer within ${call.timeoutMs} ms`);
      fail(err);
      request.destroy(err);
    }, call.timeoutMs);
    function settle(then: () => void) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      then();
    }
    function fail(err: Error) {
      settle(() => reject(err));
    }
    request.on('error', fail);
    request.end(call.body);
  });
}

/** Reads an answer up to MAX_ANSWER_BYTES; past that it stops and destroys the response's socket. */
function readCapped(response: http.IncomingMessage, done: (a: HttpAnswer) => void, fail: (e: Error) => void) {
  const status = response.statusCode ?? 0;
  const chunks: Buffer[] = [];
  let length = 0;
  const finish = (truncated: boolean) => {
    const text = Buffer.concat(chunks).toString('utf8');
    done({ status, ok: status >= 200 && status < 300, text, ...(truncated ? { truncated } : {}) });
  };
  response.on('data', (chunk: Buffer) => {
    const room = MAX_ANSWER_BYTES - length;
    if (chunk.length <= room) {
      chunks.push(chunk);
      length += chunk.length;
      return;
    }
    chunks.push(chunk.subarray(0, room));
    length = MAX_ANSWER_BYTES;
    response.removeAllListeners('data');
    response.on('error', () => {});
    // A socket with an unread answer cannot carry another request: it is closed, not kept alive.
    response.destroy();
    finish(true);
  });
  response.on('error', fail);
  response.on('end', () => finish(false));
}

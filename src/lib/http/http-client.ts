import http from 'node:http';
import https from 'node:https';

export interface HttpAnswer {
  status: number;
  ok: boolean;
  text: string;
}

export interface HttpCall {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** The whole call, connection to last byte; it fails with a timeout after this. */
  timeoutMs: number;
}

// Kept-alive connections to the peer services; idle ones close before a Node server's 5 s keep-alive
// timeout would, so a request is rarely sent on a socket the other side is closing.
const agents = {
  'http:': new http.Agent({ keepAlive: true, timeout: 4000 }),
  'https:': new https.Agent({ keepAlive: true, timeout: 4000 }),
};

/**
 * One HTTP request from one service to another (a signed message, Kannel's
 * sendsms, a delivery report), on node:http with kept-alive connections.
 * It costs a fraction of the CPU of `fetch` (whose web streams and abort
 * signals showed in the checkout's profile; BENCHMARKS.md).
 */
export function httpCall(url: string | URL, call: HttpCall): Promise<HttpAnswer> {
  const target = typeof url === 'string' ? new URL(url) : url;
  const secure = target.protocol === 'https:';
  const headers = { ...call.headers };
  if (call.body !== undefined) headers['content-length'] = String(Buffer.byteLength(call.body));
  return new Promise((resolve, reject) => {
    const request = (secure ? https : http).request(
      target,
      { method: call.method ?? 'GET', headers, agent: agents[secure ? 'https:' : 'http:'] },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', fail);
        response.on('end', () => {
          clearTimeout(timer);
          const status = response.statusCode ?? 0;
          resolve({ status, ok: status >= 200 && status < 300, text: Buffer.concat(chunks).toString('utf8') });
        });
      },
    );
    const timer = setTimeout(
      () => request.destroy(new Error(`${target.host} did not answer within ${call.timeoutMs} ms`)),
      call.timeoutMs,
    );
    function fail(err: Error) {
      clearTimeout(timer);
      reject(err);
    }
    request.on('error', fail);
    request.end(call.body);
  });
}

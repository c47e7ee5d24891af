import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { flood } from './flood.ts';

export interface Received {
  id: string;
  type: string;
  headers: IncomingMessage['headers'];
  body: string;
  json: { id: string; type: string; createdAt: string; data: any };
  /** Whether `Tvpay-Signature` is right for the body and the receiver's secret. */
  signed: boolean;
}

/** Checks a `Tvpay-Signature` header as a receiver would: HMAC-SHA256 over "<t>.<raw body>". */
export function verifySignature(secret: string, header: string | undefined, body: string): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (!m) return false;
  const expected = createHmac('sha256', secret).update(`${m[1]}.${body}`).digest();
  return timingSafeEqual(expected, Buffer.from(m[2]!, 'hex'));
}

/**
 * An operator's system receiving webhooks over real HTTP: it verifies every
 * signature with the secret it is given, records what arrives, and answers
 * whatever the test sets (`answer`: a status, 'hang' to never answer, or 'flood' to answer 200 with 600 MiB),
 * after `delay` if set.
 */
export async function webhookReceiver() {
  const received: Received[] = [];
  let secret = '';
  let answer: number | 'hang' | 'flood' = 200;
  let delayMs = 0;
  /** Bytes of the last flooding answer the receiver managed to hand to its socket. */
  let flooded = () => 0;
  const hanging = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const json = JSON.parse(body);
      received.push({
        id: json.id,
        type: json.type,
        headers: req.headers,
        body,
        json,
        signed: verifySignature(secret, req.headers['tvpay-signature'] as string | undefined, body),
      });
      if (answer === 'hang') {
        hanging.add(res);
        return;
      }
      // 600 MiB, as fast as the client reads it.
      if (answer === 'flood') return void (flooded = flood(res, 600 * 1024 * 1024));
      const status = answer;
      const send = () => res.writeHead(status, { 'content-type': 'text/plain' }).end('ok');
      if (delayMs > 0) setTimeout(send, delayMs);
      else send();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    ofType: (type: string) => received.filter((r) => r.type === type),
    setSecret(s: string) {
      secret = s;
    },
    answer(a: number | 'hang' | 'flood') {
      answer = a;
    },
    /**
     * Answers each request `ms` after it arrived, as a slow (or loaded) receiver would: the sender's
     * attempt is still in flight after the test has seen the request arrive.
     */
    delay(ms: number) {
      delayMs = ms;
    },
    flooded: () => flooded(),
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

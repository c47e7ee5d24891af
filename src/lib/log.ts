import pino, { type Logger } from 'pino';

export type Log = Logger;

/**
 * Strips what must never be logged from a request line: query strings (the
 * inbound SMS route carries the gateway token and the reply text) and the
 * link token in checkout URLs.
 */
export function redactUrl(url: string): string {
  return url.split('?')[0]!.replace(/\/pay\/[^/]+/, '/pay/[token]');
}

/** The process logger; headers are never logged and URLs are redacted. */
export function createLogger(level: string, name?: string): Log {
  return pino({
    level,
    name,
    redact: { paths: ['headers.authorization', '*.token', '*.code', '*.password', '*.grant'], censor: '[redacted]' },
    serializers: {
      req: (req: { method?: string; url?: string; id?: string }) => ({ id: req.id, method: req.method, url: redactUrl(req.url ?? '') }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
      err: pino.stdSerializers.err,
    },
  });
}

import pino, { type DestinationStream, type Logger } from 'pino';
import { correlation } from './correlation.ts';

export type Log = Logger;

/**
 * Strips what must never be logged from a request line: query strings (the
 * inbound SMS route carries the gateway token and the reply text) and the
 * link token in checkout URLs.
 */
export function redactUrl(url: string): string {
  return url.split('?')[0]!.replace(/\/pay\/[^/]+/, '/pay/[token]');
}

/** The process logger; headers are never logged and URLs are redacted; every line carries the correlation id in force. */
export function createLogger(level: string, name?: string, destination?: DestinationStream): Log {
  return pino({
    level,
    name,
    // A request's own logger has the id bound already (so its "request completed" line has it too).
    mixin: (_merge, _level, logger) => {
      const id = correlation.current();
      return id && !('correlationId' in logger.bindings()) ? { correlationId: id } : {};
    },
    redact: { paths: ['headers.authorization', '*.token', '*.code', '*.password', '*.grant'], censor: '[redacted]' },
    serializers: {
      req: (req: { method?: string; url?: string; id?: string }) => ({ id: req.id, method: req.method, url: redactUrl(req.url ?? '') }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
      err: pino.stdSerializers.err,
    },
  }, destination);
}

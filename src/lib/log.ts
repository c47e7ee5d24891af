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

/**
 * The process logger; headers are never logged and URLs are redacted; every line carries the correlation id in force.
 */
export function createLogger(level: string, name?: string, destination?: DestinationStream): Log {
  return pino(
    {
      level,
      name,
      // A request's own logger has the id bound already (so its "request completed" line has it too).
      mixin: (_merge, _level, logger) => {
        const id = correlation.current();
        return id && !('correlationId' in logger.bindings()) ? { correlationId: id } : {};
      },
      redact: { paths: ['headers.authorization', '*.token', '*.code', '*.password', '*.grant'], censor: '[redacted]' },
      serializers: {
        req: (req: { method?: string; url?: string; id?: string }) => ({
          id: req.id,
          method: req.method,
          url: redactUrl(req.url ?? ''),
        }),
        res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
        err: pino.stdSerializers.err,
      },
    },
    destination,
  );
}

/**
 * A request's logger that becomes a real pino child only when it first
 * writes a line at a level that is on. Fastify makes one per request, and
 * pino's child serialises its bindings at once; most requests log nothing
 * at `warn` and above (with the metrics' label hashing, that work was a
 * fifth of a status read's server CPU, BENCHMARKS.md). The bindings, level
 * and serialisers are those of `parent.child()`.
 * A class, so that a request makes one object and no closures.
 */
class LazyChild {
  #real: Logger | undefined;
  #threshold: number;
  constructor(
    readonly parent: Logger,
    readonly ownBindings: pino.Bindings,
    readonly options: pino.ChildLoggerOptions,
  ) {
    this.#threshold = options.level ? (parent.levels.values[options.level] ?? parent.levelVal) : parent.levelVal;
  }
  #get(): Logger {
    return (this.#real ??= this.parent.child(this.ownBindings, this.options));
  }
  #on(level: string): boolean {
    return (this.parent.levels.values[level] ?? Infinity) >= this.#threshold;
  }
  fatal(...args: Parameters<Logger['fatal']>): void {
    if (this.#on('fatal')) this.#get().fatal(...args);
  }
  error(...args: Parameters<Logger['error']>): void {
    if (this.#on('error')) this.#get().error(...args);
  }
  warn(...args: Parameters<Logger['warn']>): void {
    if (this.#on('warn')) this.#get().warn(...args);
  }
  info(...args: Parameters<Logger['info']>): void {
    if (this.#on('info')) this.#get().info(...args);
  }
  debug(...args: Parameters<Logger['debug']>): void {
    if (this.#on('debug')) this.#get().debug(...args);
  }
  trace(...args: Parameters<Logger['trace']>): void {
    if (this.#on('trace')) this.#get().trace(...args);
  }
  silent(): void {}
  child(bindings: pino.Bindings, options?: pino.ChildLoggerOptions): Logger {
    return this.#get().child(bindings, options);
  }
  bindings(): pino.Bindings {
    return { ...this.parent.bindings(), ...this.ownBindings };
  }
  isLevelEnabled(level: string): boolean {
    return this.#on(level);
  }
  get level(): string {
    return this.#real?.level ?? this.options.level ?? this.parent.level;
  }
  set level(level: string) {
    this.#get().level = level;
    this.#threshold = this.parent.levels.values[level] ?? this.#threshold;
  }
}

/** A child of `parent` made only when it first logs (LazyChild). */
export const lazyChild = (parent: Logger, bindings: pino.Bindings, options: pino.ChildLoggerOptions = {}): Logger =>
  new LazyChild(parent, bindings, options) as unknown as Logger;

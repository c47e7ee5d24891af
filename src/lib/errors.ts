import { ERROR_CATALOGUE, type ErrorCode, type ErrorKind } from './error-catalogue.ts';

export type { ErrorCode };

/**
 * Domain errors carry a stable machine-readable `code` from the error
 * catalogue (which gives its kind), so domain code never has to know about
 * HTTP. `expose` is false for errors whose message must not reach a client.
 */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly expose = true,
  ) {
    super(message);
    this.name = 'DomainError';
  }

  get kind(): ErrorKind {
    return ERROR_CATALOGUE[this.code][0];
  }
}

export const notFound = (code: ErrorCode, what: string) => new DomainError(code, `${what} was not found.`);
export const conflict = (code: ErrorCode, message: string) => new DomainError(code, message);
export const badRequest = (code: ErrorCode, message: string) => new DomainError(code, message);
export const unauthorized = (message = 'Missing or invalid credentials.') => new DomainError('UNAUTHORIZED', message);
export const rateLimited = (retryAfterSeconds: number, what: string) =>
  new DomainError('RATE_LIMITED', `Too many ${what}; try again in ${retryAfterSeconds} s.`, { retryAfterSeconds });

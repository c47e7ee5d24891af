/**
 * Domain errors carry a stable machine-readable `code` and the HTTP status the
 * edge should answer with, so domain code never has to know about HTTP.
 * `expose` is false for errors whose message must not reach a client.
 */
export class DomainError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly expose = true,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const notFound = (code: string, what: string) => new DomainError(code, 404, `${what} was not found.`);
export const conflict = (code: string, message: string) => new DomainError(code, 409, message);
export const badRequest = (code: string, message: string) => new DomainError(code, 400, message);
export const unauthorized = (message = 'Missing or invalid credentials.') => new DomainError('UNAUTHORIZED', 401, message);
export const rateLimited = (retryAfterSeconds: number, what: string) =>
  new DomainError('RATE_LIMITED', 429, `Too many ${what}; try again in ${retryAfterSeconds} s.`, { retryAfterSeconds });

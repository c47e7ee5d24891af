import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isConnectionLost } from '../db/connection-lost.ts';
import { DomainError } from '../errors.ts';
import { ERROR_CATALOGUE, type ErrorCode, type ErrorKind } from '../error-catalogue.ts';

/** The one place a kind of error becomes an HTTP status. */
const KIND_STATUS: Record<ErrorKind, number> = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  unsupported: 415,
  unprocessable: 422,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
};

/** The HTTP status of an error code (by its kind in the catalogue). */
export const statusOf = (code: ErrorCode): number => KIND_STATUS[ERROR_CATALOGUE[code][0]];

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  [extra: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function problem(status: number, code: ErrorCode, detail: string, extra: Record<string, unknown> = {}): Problem {
  return {
    type: `https://tvpay.dev/problems/${code.toLowerCase().replace(/_/g, '-')}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    code,
    ...extra,
  };
}

function describeValidation(err: FastifyError): string {
  const first = err.validation?.[0];
  if (!first) return err.message;
  const where = `${err.validationContext ?? 'body'}${first.instancePath ? first.instancePath.replace(/\//g, '.') : ''}`;
  const params = first.params as Record<string, unknown>;
  if (first.keyword === 'additionalProperties')
    return `${where} has an unexpected field "${String(params.additionalProperty)}"; remove it.`;
  if (first.keyword === 'pattern' && params.pattern === '\\S') return `${where} must not be blank.`;
  if (first.keyword === 'required')
    return `${where} is missing the required field "${String(params.missingProperty)}".`;
  return `${where} ${first.message ?? 'is invalid'}.`;
}

/** Maps known Fastify errors to a problem; anything unknown is a bug (500). */
export function toProblem(err: FastifyError | DomainError | Error): Problem {
  if (err instanceof DomainError) {
    const status = statusOf(err.code);
    return problem(status, err.code, err.expose ? err.message : (TITLES[status] ?? 'Error'), err.extra);
  }
  const fe = err as FastifyError;
  if (fe.validation) {
    const first = fe.validation[0];
    if (first?.instancePath === '/phone')
      return problem(
        400,
        'PHONE_INVALID',
        'phone must be a mobile number written as a JSON string, e.g. "13800138000" or "+86 138 0013 8000".',
      );
    return problem(400, 'VALIDATION_FAILED', describeValidation(fe));
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return problem(413, 'PAYLOAD_TOO_LARGE', 'The request body is larger than 64 KB.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return problem(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json.');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return problem(400, 'MALFORMED_JSON', 'The body is empty; send a JSON object.');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return problem(400, 'BAD_REQUEST', 'The Content-Length header does not match the body.');
  }
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
    return problem(fe.statusCode, 'BAD_REQUEST', 'The request could not be understood.');
  }
  if (isConnectionLost(err))
    return problem(
      503,
      'STORAGE_UNAVAILABLE',
      `The connection to the database was lost while answering; nothing was confirmed. ` +
        `Retry in ${STORAGE_RETRY_SECONDS} seconds (with the same Idempotency-Key, if you sent one).`,
      { retryAfterSeconds: STORAGE_RETRY_SECONDS },
    );
  return problem(500, 'INTERNAL', 'Something went wrong on our side; it has been logged.');
}

/** How long a caller waits after a lost database connection: the pool opens a new one at the next request. */
const STORAGE_RETRY_SECONDS = 2;

export function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  if ((p.status === 429 || p.status === 503) && typeof p.retryAfterSeconds === 'number')
    reply.header('retry-after', String(p.retryAfterSeconds));
  return reply.code(p.status).type('application/problem+json; charset=utf-8').send(p);
}

export function errorHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const p = toProblem(err);
  if (p.code === 'STORAGE_UNAVAILABLE') {
    request.log.warn({ err: err.message, requestId: request.id }, 'the database connection was lost during a request');
    return sendProblem(reply, { ...p, requestId: request.id });
  }
  if (p.status >= 500) {
    // The operator finds the logged error by the id the caller was given.
    request.log.error({ err, requestId: request.id }, 'unhandled error');
    return sendProblem(reply, { ...p, requestId: request.id });
  }
  return sendProblem(reply, p);
}

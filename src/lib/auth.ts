import type { FastifyRequest } from 'fastify';
import { unauthorized } from './errors.ts';
import { secretEquals } from './ids.ts';

/** The bearer token of a request, or undefined. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S{1,512})$/i.exec(header.trim());
  return match?.[1];
}

/** An onRequest hook admitting only the admin token, compared in constant time. */
export function requireAdmin(adminToken: string) {
  return async (request: FastifyRequest) => {
    const token = bearerToken(request);
    if (!token || !secretEquals(token, adminToken))
      throw unauthorized('Send the admin token as "Authorization: Bearer <token>".');
    request.principal = 'admin';
  };
}

import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import type { idempotencyHooks } from './idempotency.ts';

/**
 * Registers routes in their own scope behind an authentication hook, with
 * Idempotency-Key honoured on their POSTs.
 */
export async function authenticatedScope(
  app: FastifyInstance,
  authenticate: onRequestHookHandler,
  idempotency: ReturnType<typeof idempotencyHooks>,
  register: (scope: FastifyInstance) => void,
): Promise<void> {
  await app.register(async (scope) => {
    scope.addHook('onRequest', authenticate);
    scope.addHook('preHandler', idempotency.preHandler);
    scope.addHook('onSend', idempotency.onSend);
    register(scope);
  });
}

import cookie from '@fastify/cookie';
import type { FastifyInstance, onRequestHookHandler, onSendHookHandler, preHandlerHookHandler } from 'fastify';
import type { idempotencyHooks } from './idempotency.ts';

const asList = <T>(hooks: T | T[] | undefined): T[] =>
  hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks];

/**
 * Registers routes in their own scope behind an authentication hook, with
 * Idempotency-Key honoured on their POSTs. The idempotency hooks are put on
 * each POST route only (first, as a scope's hooks would run), so that the
 * reads a TV makes many times a second do not pass through two async hooks
 * that have nothing to do for them.
 */
export async function authenticatedScope(
  app: FastifyInstance,
  authenticate: onRequestHookHandler,
  idempotency: ReturnType<typeof idempotencyHooks>,
  register: (scope: FastifyInstance) => void,
): Promise<void> {
  await app.register(async (scope) => {
    scope.addHook('onRequest', authenticate);
    scope.addHook('onRoute', (route) => {
      if (!asList(route.method).includes('POST')) return;
      route.preHandler = [
        idempotency.preHandler,
        ...asList<preHandlerHookHandler>(
          route.preHandler as preHandlerHookHandler | preHandlerHookHandler[] | undefined,
        ),
      ];
      route.onSend = [
        idempotency.onSend,
        ...asList<onSendHookHandler>(route.onSend as onSendHookHandler | onSendHookHandler[] | undefined),
      ];
    });
    register(scope);
  });
}

/**
 * Registers routes that keep state in cookies (the consoles' sessions, the
 * checkout page's steps) in their own scope with cookie parsing and
 * setting; the API's routes read no cookie, and without the plugin's two
 * hooks a TV's read skips them (BENCHMARKS.md).
 */
export async function cookieScope(app: FastifyInstance, register: (scope: FastifyInstance) => void): Promise<void> {
  await app.register(async (scope) => {
    await scope.register(cookie);
    register(scope);
  });
}

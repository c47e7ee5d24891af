import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Clock } from '../clock.ts';

/** A clock that can be moved forward (never back): the test clock of TVPAY_TEST_CLOCK=1. */
export interface TestClock extends Clock {
  advance(ms: number): void;
}

/**
 * The test clock's routes (API "Test clock"), registered only when it is on
 * (otherwise they are 404): every service in the process shares the clock,
 * so moving it on one moves it for all, and every scheduler (expiry, outbox
 * retries, notices, renewals, webhook backoff, the fulfilment deadline,
 * retention) acts on it within a second or two.
 */
export function testClockRoutes(app: FastifyInstance, clock: TestClock, afterMove: () => void = () => {}): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const Now = Type.Object({ now: Type.String() });
  r.get('/admin/v1/test-clock', { schema: { response: { 200: Now } } }, async () => ({
    now: clock.now().toISOString(),
  }));
  r.post(
    '/admin/v1/test-clock',
    {
      schema: {
        body: Type.Object(
          {
            advanceSeconds: Type.Integer({
              minimum: 1,
              maximum: 10 * 366 * 86_400,
              description: 'Seconds to move the clock forward.',
            }),
          },
          { additionalProperties: false },
        ),
        response: { 200: Now },
      },
    },
    async (request) => {
      clock.advance(request.body.advanceSeconds * 1000);
      afterMove();
      return { now: clock.now().toISOString() };
    },
  );
}

import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Clock } from '../clock.ts';

/** A clock that can be moved forward (never back): the test clock of TVPAY_TEST_CLOCK=1. */
export interface TestClock extends Clock {
  advance(ms: number): void;
}

/** A move is walked in steps of at most a day (notices are due on a day), and in no more than this many. */
const STEP_MS = 86_400_000;
const MAX_STEPS = 400;

/** What each service of a process does when the shared clock reaches a moment: keyed by the clock, not global. */
const dueWorkOf = new WeakMap<TestClock, Array<() => Promise<void>>>();

/**
 * Moves the clock forward in steps, running every service's due work at
 * each step (twice, so a message one service sends the other is answered
 * within the step). One jump made everything due at once: a 30-day move
 * sent the renewal notice and charged the renewal 60 ms apart; walked, the
 * notice goes on its day and the renewal at the period's end, in order.
 */
async function walkForward(clock: TestClock, ms: number): Promise<void> {
  const work = dueWorkOf.get(clock) ?? [];
  // A process with one service (each started alone) has a clock of its own, moved by its own request: its
  // peers' clocks are still behind while it walks, and what it asks of them is answered in their time. It jumps,
  // as before; the walk is for a process whose services share the clock (`npm start`).
  if (work.length < 2) {
    clock.advance(ms);
    return;
  }
  const step = Math.max(STEP_MS, Math.ceil(ms / MAX_STEPS));
  for (let left = ms; left > 0; left -= Math.min(step, left)) {
    clock.advance(Math.min(step, left));
    for (let round = 0; round < 2; round++) for (const due of work) await due();
  }
}

/**
 * The test clock's routes (API "Test clock"), registered only when it is on
 * (otherwise they are 404): every service in the process shares the clock,
 * so moving it on one moves it for all. A move walks forward in steps,
 * running each service's `dueNow` (its schedulers: expiry, notices,
 * renewals, retention; and its outbox) at every step (walkForward).
 */
export function testClockRoutes(app: FastifyInstance, clock: TestClock, dueNow: () => Promise<void>): void {
  dueWorkOf.set(clock, [...(dueWorkOf.get(clock) ?? []), dueNow]);
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
      await walkForward(clock, request.body.advanceSeconds * 1000);
      return { now: clock.now().toISOString() };
    },
  );
}

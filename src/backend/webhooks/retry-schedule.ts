/** A delivery that has not succeeded this long after its event was made is given up (`failed`). */
export const WEBHOOK_GIVE_UP_MS = 3 * 24 * 3600 * 1000;
/** How long a receiver has to answer. */
export const WEBHOOK_TIMEOUT_MS = 10_000;

/**
 * When to try a delivery again after its `attempts`-th failure: 10 s, then
 * three times longer each time (30 s, 90 s, 4.5 min, …), at most 6 hours
 * apart, so a receiver that was down for an hour hears again within minutes
 * of coming back at first, and within hours later on, for 3 days.
 */
export function retryDelayMs(attempts: number): number {
  return Math.min(6 * 3600 * 1000, 10_000 * 3 ** Math.max(0, attempts - 1));
}

/**
 * Named step boundaries of the payment flow where a test can make a process
 * die at once (SIGKILL, as a power cut would), to prove that whatever
 * committed before survives and whatever did not is redone: no money lost or
 * moved twice, every paid order fulfilled. Armed only by TVPAY_CRASH_AT.
 */
export const CRASH_POINTS = [
  'backend.after-payer',
  'payserver.after-hold',
  'payserver.after-code-sms',
  'payserver.after-capture',
  'payserver.after-notify',
  'backend.after-paid',
  'backend.after-fulfil',
] as const;

/** The step boundaries of a renewal charge: the claim committed; the charge committed, not yet answered. */
export const RENEWAL_CRASH_POINTS = ['backend.after-renewal-claim', 'payserver.after-renewal-charge'] as const;

/**
 * A rail's payment: the provider has said paid (a verified notification, or a query's answer) and the
 * capture is written, not yet committed. A restart must learn it again (the provider retries its
 * notification, the sweeper asks) and settle it once.
 */
export const RAIL_CRASH_POINTS = ['payserver.rail-paid-before-commit'] as const;

export const ALL_CRASH_POINTS = [...CRASH_POINTS, ...RENEWAL_CRASH_POINTS, ...RAIL_CRASH_POINTS] as const;

export type CrashPoint = (typeof ALL_CRASH_POINTS)[number];

let armed = new Set<string>();

export function armCrashPoints(points: readonly string[]): void {
  armed = new Set(points);
}

/** Dies here, now, if this point is armed. */
export function crashPoint(point: CrashPoint): void {
  if (armed.has(point)) process.kill(process.pid, 'SIGKILL');
}

/** A service could not start for a reason the operator can fix; the message says how, in one line. */
export class StartError extends Error {}

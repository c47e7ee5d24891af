/**
 * Every error code tvpay answers with, its HTTP status, and what it means to
 * the caller. One code has one status everywhere; `docs/errors.md` documents
 * the same list and a test (`error-catalogue.test.ts`) holds the code, this
 * catalogue and the document together.
 */
export const ERROR_CATALOGUE = {
  // Bad requests: the caller can fix them.
  BAD_REQUEST: [400, 'The request could not be understood.'],
  MALFORMED_JSON: [400, 'The body is empty, not JSON, or not UTF-8.'],
  JSON_TOO_DEEP: [400, 'The JSON nests deeper than 32 levels.'],
  TEXT_MALFORMED: [400, 'Text in the body, query or path is not well-formed Unicode (a lone surrogate).'],
  BODY_NOT_ALLOWED: [400, 'The route takes no body.'],
  VALIDATION_FAILED: [400, 'A field is missing, unexpected or of the wrong type; `detail` names it.'],
  PHONE_INVALID: [400, 'The phone is not a string holding a mobile number of an accepted region.'],
  AMOUNT_INVALID: [400, 'An amount is not a positive whole number of minor units.'],
  CURRENCY_UNSUPPORTED: [400, 'The currency is not one tvpay handles.'],
  IDEMPOTENCY_KEY_INVALID: [400, 'The Idempotency-Key header is not 1 to 255 characters.'],
  CODE_NOT_SENT: [400, 'Checkout page: no code is pending for this page; ask for a new one.'],
  CODE_INCORRECT: [400, 'Checkout page: the code is not right; `triesLeft` says how many tries remain.'],
  CODE_EXPIRED: [400, 'Checkout page: the code has expired; ask for a new one.'],
  CONFIRMATION_FAILED: [400, 'Checkout page: too many wrong codes; ask for a new one.'],
  GRANT_INVALID: [400, 'Checkout page: the page has expired; start again from the link.'],
  // Credentials.
  UNAUTHORIZED: [401, 'Missing or invalid admin or device token.'],
  SIGNATURE_INVALID: [401, 'A service message is unsigned, stale or altered.'],
  SIGNATURE_REPLAYED: [401, 'A service message was already received.'],
  // Not found (nothing else is revealed).
  NOT_FOUND: [404, 'There is no such route.'],
  ORDER_NOT_FOUND: [404, 'No such order for this caller.'],
  PRODUCT_NOT_FOUND: [404, 'No such product.'],
  ACCOUNT_NOT_FOUND: [404, 'No such account.'],
  CARD_NOT_FOUND: [404, 'The account has no linked card.'],
  LEDGER_ACCOUNT_NOT_FOUND: [404, 'No such ledger account.'],
  CHECKOUT_NOT_FOUND: [404, 'The payment link is not valid.'],
  // Conflicts with the state of things.
  ORDER_FINAL: [409, 'The order has ended (or expired); create a new one.'],
  ORDER_PAID: [409, 'The order is already paid.'],
  ORDER_CHANGED: [409, 'The order changed meanwhile; read it again.'],
  ORDER_HAS_NO_PAYER: [409, 'The order has no payer yet, so no payment link.'],
  ACCOUNT_EXISTS: [409, 'The phone already has an account.'],
  NO_ACCOUNT: [409, 'The phone has no wallet to pay from.'],
  SOURCE_NOT_FOUND: [409, 'The account has no such source (wallet or card).'],
  CURRENCY_MISMATCH: [409, 'The wallet holds another currency than the order.'],
  INSUFFICIENT_FUNDS: [409, 'The source does not cover the amount.'],
  PAYMENT_IN_PROGRESS: [409, 'The order is being paid on another page at this moment.'],
  IDEMPOTENCY_KEY_IN_USE: [409, 'A request with this Idempotency-Key is still running.'],
  // Other client errors.
  PAYLOAD_TOO_LARGE: [413, 'The body is larger than 64 KB.'],
  UNSUPPORTED_MEDIA_TYPE: [415, 'Send JSON (signed service messages are JSON only).'],
  IDEMPOTENCY_KEY_REUSED: [422, 'The Idempotency-Key was used with another body.'],
  RATE_LIMITED: [429, 'Too many requests of this kind; `Retry-After` says when to try again.'],
  SMS_BUDGET_EXHAUSTED: [429, "The day's SMS budget is used up; SMS payments resume the next day."],
  STREAMS_LIMITED: [429, 'Too many event streams open for this TV or order.'],
  // Server side.
  INTERNAL: [500, 'A bug; it has been logged.'],
  NOT_READY: [503, 'Storage is not open yet.'],
} as const satisfies Record<string, readonly [number, string]>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

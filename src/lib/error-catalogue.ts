/**
 * What kind of error a code is; `problem.ts` alone turns a kind into an HTTP
 * status, so domain code never names one.
 */
export type ErrorKind =
  | 'invalid'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'too_large'
  | 'unsupported'
  | 'unprocessable'
  | 'rate_limited'
  | 'internal'
  | 'unavailable';

/**
 * Every error code tvpay answers with, its kind, and what it means to the
 * caller. One code has one kind everywhere; `docs/errors.md` documents the
 * same list and a test (`error-catalogue.test.ts`) holds the code, this
 * catalogue and the document together.
 */
export const ERROR_CATALOGUE = {
  // Bad requests: the caller can fix them.
  BAD_REQUEST: ['invalid', 'The request could not be understood.'],
  MALFORMED_JSON: ['invalid', 'The body is empty, not JSON, or not UTF-8.'],
  JSON_TOO_DEEP: ['invalid', 'The JSON nests deeper than 32 levels.'],
  TEXT_MALFORMED: ['invalid', 'Text in a JSON body is not well-formed Unicode (a lone surrogate).'],
  URL_MALFORMED: ['invalid', 'The path holds percent-escapes that are not UTF-8.'],
  BODY_NOT_ALLOWED: ['invalid', 'The route takes no body.'],
  VALIDATION_FAILED: ['invalid', 'A field is missing, unexpected or of the wrong type; `detail` names it.'],
  PHONE_INVALID: ['invalid', 'The phone is not a string holding a mobile number of an accepted region.'],
  AMOUNT_INVALID: ['invalid', 'An amount is not a positive whole number of minor units.'],
  CURRENCY_UNSUPPORTED: ['invalid', 'The currency is not one tvpay handles.'],
  IDEMPOTENCY_KEY_INVALID: ['invalid', 'The Idempotency-Key header is not 1 to 255 characters.'],
  CODE_NOT_SENT: ['invalid', 'Checkout page: no code is pending for this page; ask for a new one.'],
  CODE_INCORRECT: ['invalid', 'Checkout page: the code is not right; `triesLeft` says how many tries remain.'],
  CODE_EXPIRED: ['invalid', 'Checkout page: the code has expired; ask for a new one.'],
  CONFIRMATION_FAILED: ['invalid', 'Checkout page: too many wrong codes; ask for a new one.'],
  GRANT_INVALID: ['invalid', 'Checkout page: the page has expired; start again from the link.'],
  // Credentials.
  UNAUTHORIZED: ['unauthorized', 'Missing or invalid admin or device token.'],
  SIGNATURE_INVALID: ['unauthorized', 'A service message is unsigned, stale or altered.'],
  SIGNATURE_REPLAYED: ['unauthorized', 'A service message was already received.'],
  // Refused whoever asks: the request did not come from where it must.
  CONSOLE_FORM_REFUSED: [
    'forbidden',
    "A console form did not come from the console's own page (another origin, or no or a wrong anti-forgery token).",
  ],
  // Not found (nothing else is revealed).
  NOT_FOUND: ['not_found', 'There is no such route.'],
  ORDER_NOT_FOUND: ['not_found', 'No such order for this caller.'],
  PRODUCT_NOT_FOUND: ['not_found', 'No such product.'],
  ACCOUNT_NOT_FOUND: ['not_found', 'No such account.'],
  CARD_NOT_FOUND: ['not_found', 'The account has no linked card.'],
  LEDGER_ACCOUNT_NOT_FOUND: ['not_found', 'No such ledger account.'],
  CHECKOUT_NOT_FOUND: ['not_found', 'The payment link is not valid.'],
  DEVICE_NOT_FOUND: ['not_found', 'No such device.'],
  SUBSCRIPTION_NOT_FOUND: ['not_found', 'No such subscription for this caller.'],
  WEBHOOK_NOT_FOUND: ['not_found', 'No such webhook (or it was deleted).'],
  DELIVERY_NOT_FOUND: ['not_found', 'No such delivery of this webhook.'],
  AGREEMENT_NOT_FOUND: ['not_found', 'No such quick-pay agreement at a money rail.'],
  MESSAGE_NOT_FOUND: ['not_found', 'Development carrier: the phone received no message with that id.'],
  // Conflicts with the state of things.
  ORDER_FINAL: ['conflict', 'The order has ended (or expired); create a new one.'],
  ORDER_PAID: ['conflict', 'The order is already paid.'],
  ORDER_CHANGED: ['conflict', 'The order changed meanwhile; read it again.'],
  ORDER_HAS_NO_PAYER: ['conflict', 'The order has no payer yet, so no payment link.'],
  ACCOUNT_EXISTS: ['conflict', 'The phone already has an account.'],
  NO_ACCOUNT: ['conflict', 'The phone has no wallet to pay from.'],
  SOURCE_NOT_FOUND: ['conflict', 'The account has no such source (wallet or card).'],
  CURRENCY_MISMATCH: ['conflict', 'The wallet holds another currency than the order.'],
  INSUFFICIENT_FUNDS: ['conflict', 'The source does not cover the amount.'],
  RAIL_REFUSED: [
    'conflict',
    'The money rail (Alipay, WeChat Pay) refused the payment or refund; its own code is kept.',
  ],
  RAIL_AGREEMENTS_UNAVAILABLE: [
    'conflict',
    'The money rail named takes no quick-pay agreements here (WeChat Pay needs a papay plan id).',
  ],
  POSSESSION_REQUIRED: [
    'conflict',
    "Quick pay can be turned on only after the phone's code was confirmed on this page; ask for the code first.",
  ],
  PAYMENT_IN_PROGRESS: ['conflict', 'The order is being paid on another page at this moment.'],
  RAIL_UNAVAILABLE: [
    'conflict',
    'The money rail named is off here, or did not answer; `GET /v1/rails` lists those on.',
  ],
  BILL_NOT_READY: [
    'conflict',
    "The rail's bill of that day is not available yet " +
      '(the day has not ended in Beijing time, or the rail has not made it).',
  ],
  ORDER_NOT_PAID: ['conflict', 'Only a paid or fulfilled order can be refunded.'],
  IDEMPOTENCY_KEY_IN_USE: ['conflict', 'A request with this Idempotency-Key is still running.'],
  // Other client errors.
  PAYLOAD_TOO_LARGE: ['too_large', 'The body is larger than 64 KB.'],
  UNSUPPORTED_MEDIA_TYPE: ['unsupported', 'Send JSON (signed service messages are JSON only).'],
  IDEMPOTENCY_KEY_REUSED: ['unprocessable', 'The Idempotency-Key was used with another body.'],
  REFUND_EXCEEDS_PAYMENT: [
    'unprocessable',
    'Refunds (pending and succeeded) would add up to more than was paid; `leftMinor` says what is left.',
  ],
  WEBHOOK_URL_INVALID: ['unprocessable', 'A webhook URL must be an absolute http(s) URL without credentials.'],
  WEBHOOK_URL_FORBIDDEN: [
    'unprocessable',
    "A webhook URL's host is, or resolves to, a loopback, private, link-local, unspecified or cloud metadata address.",
  ],
  EVENT_TYPE_UNKNOWN: ['unprocessable', 'An event type is not one tvpay emits; `detail` lists them.'],
  RATE_LIMITED: ['rate_limited', 'Too many requests of this kind; `Retry-After` says when to try again.'],
  SMS_BUDGET_EXHAUSTED: ['rate_limited', "The day's SMS budget is used up; SMS payments resume the next day."],
  STREAMS_LIMITED: ['rate_limited', 'Too many event streams open for this TV or order.'],
  // Server side.
  INTERNAL: ['internal', 'A bug; it has been logged.'],
  NOT_READY: ['unavailable', 'Storage is not open yet.'],
  STORAGE_UNAVAILABLE: ['unavailable', 'The connection to the database was lost; retry after Retry-After seconds.'],
} as const satisfies Record<string, readonly [ErrorKind, string]>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

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
 * Every error code tvpay answers with, under its kind, and what it means to the
 * caller. One code has one kind everywhere; `docs/errors.md` documents the
 * same list and a test (`error-catalogue.test.ts`) holds the code, this
 * catalogue and the document together. Grouped by kind, so a code's kind is
 * the section it stands in rather than a word repeated on each line.
 */
const BY_KIND = {
  // Bad requests: the caller can fix them.
  invalid: {
    BAD_REQUEST: 'The request could not be understood.',
    MALFORMED_JSON: 'The body is empty, not JSON, or not UTF-8.',
    JSON_TOO_DEEP: 'The JSON nests deeper than 32 levels.',
    TEXT_MALFORMED: 'Text in a JSON body is not well-formed Unicode (a lone surrogate).',
    URL_MALFORMED: 'The path holds percent-escapes that are not UTF-8.',
    BODY_NOT_ALLOWED: 'The route takes no body.',
    VALIDATION_FAILED: 'A field is missing, unexpected or of the wrong type; `detail` names it.',
    PHONE_INVALID: 'The phone is not a string holding a mobile number of an accepted region.',
    AMOUNT_INVALID: 'An amount is not a positive whole number of minor units.',
    CURRENCY_UNSUPPORTED: 'The currency is not one tvpay handles.',
    IDEMPOTENCY_KEY_INVALID: 'The Idempotency-Key header is not 1 to 255 characters.',
    CODE_NOT_SENT: 'Checkout page: no code is pending for this page; ask for a new one.',
    CODE_INCORRECT: 'Checkout page: the code is not right; `triesLeft` says how many tries remain.',
    CODE_EXPIRED: 'Checkout page: the code has expired; ask for a new one.',
    CONFIRMATION_FAILED: 'Checkout page: too many wrong codes; ask for a new one.',
    GRANT_INVALID: 'Checkout page: the page has expired; start again from the link.',
  },
  // Credentials.
  unauthorized: {
    UNAUTHORIZED: 'Missing or invalid admin or device token.',
    SIGNATURE_INVALID: 'A service message is unsigned, stale or altered.',
    SIGNATURE_REPLAYED: 'A service message was already received.',
  },
  // Refused whoever asks: the request did not come from where it must.
  forbidden: {
    CONSOLE_FORM_REFUSED:
      "A console form did not come from the console's own page (another origin, or no or a wrong anti-forgery token).",
  },
  // Not found (nothing else is revealed).
  not_found: {
    NOT_FOUND: 'There is no such route.',
    ORDER_NOT_FOUND: 'No such order for this caller.',
    PRODUCT_NOT_FOUND: 'No such product.',
    ACCOUNT_NOT_FOUND: 'No such account.',
    CARD_NOT_FOUND: 'The account has no linked card.',
    LEDGER_ACCOUNT_NOT_FOUND: 'No such ledger account.',
    CHECKOUT_NOT_FOUND: 'The payment link is not valid.',
    DEVICE_NOT_FOUND: 'No such device.',
    SUBSCRIPTION_NOT_FOUND: 'No such subscription for this caller.',
    WEBHOOK_NOT_FOUND: 'No such webhook (or it was deleted).',
    DELIVERY_NOT_FOUND: 'No such delivery of this webhook.',
    AGREEMENT_NOT_FOUND: 'No such quick-pay agreement at a money rail.',
    MESSAGE_NOT_FOUND: 'Development carrier: the phone received no message with that id.',
  },
  // Conflicts with the state of things.
  conflict: {
    ORDER_FINAL: 'The order has ended (or expired); create a new one.',
    ORDER_PAID: 'The order is already paid.',
    ORDER_CHANGED: 'The order changed meanwhile; read it again.',
    ORDER_HAS_NO_PAYER: 'The order has no payer yet, so no payment link.',
    ACCOUNT_EXISTS: 'The phone already has an account.',
    NO_ACCOUNT: 'The phone has no wallet to pay from.',
    SOURCE_NOT_FOUND: 'The account has no such source (wallet or card).',
    CURRENCY_MISMATCH: 'The wallet holds another currency than the order.',
    INSUFFICIENT_FUNDS: 'The source does not cover the amount.',
    RAIL_REFUSED: 'The money rail (Alipay, WeChat Pay) refused the payment or refund; its own code is kept.',
    RAIL_AGREEMENTS_UNAVAILABLE:
      'The money rail named takes no quick-pay agreements here (WeChat Pay needs a papay plan id).',
    POSSESSION_REQUIRED:
      "Quick pay can be turned on only after the phone's code was confirmed on this page; ask for the code first.",
    PAYMENT_IN_PROGRESS: 'The order is being paid on another page at this moment.',
    RAIL_UNAVAILABLE: 'The money rail named is off here, or did not answer; `GET /v1/rails` lists those on.',
    BILL_NOT_READY:
      "The rail's bill of that day is not available yet " +
      '(the day has not ended in Beijing time, or the rail has not made it).',
    ORDER_NOT_PAID: 'Only a paid or fulfilled order can be refunded.',
    IDEMPOTENCY_KEY_IN_USE: 'A request with this Idempotency-Key is still running.',
  },
  // Other client errors.
  too_large: {
    PAYLOAD_TOO_LARGE: 'The body is larger than 64 KB.',
  },
  unsupported: {
    UNSUPPORTED_MEDIA_TYPE: 'Send JSON (signed service messages are JSON only).',
  },
  unprocessable: {
    IDEMPOTENCY_KEY_REUSED: 'The Idempotency-Key was used with another body.',
    REFUND_EXCEEDS_PAYMENT:
      'Refunds (pending and succeeded) would add up to more than was paid; `leftMinor` says what is left.',
    WEBHOOK_URL_INVALID: 'A webhook URL must be an absolute http(s) URL without credentials.',
    WEBHOOK_URL_FORBIDDEN:
      "A webhook URL's host is, or resolves to, a loopback, private, link-local, unspecified " +
      'or cloud metadata address.',
    EVENT_TYPE_UNKNOWN: 'An event type is not one tvpay emits; `detail` lists them.',
  },
  rate_limited: {
    RATE_LIMITED: 'Too many requests of this kind; `Retry-After` says when to try again.',
    SMS_BUDGET_EXHAUSTED: "The day's SMS budget is used up; SMS payments resume the next day.",
    STREAMS_LIMITED: 'Too many event streams open for this TV or order.',
  },
  // Server side.
  internal: {
    INTERNAL: 'A bug; it has been logged.',
  },
  unavailable: {
    NOT_READY: 'Storage is not open yet.',
    STORAGE_UNAVAILABLE: 'The connection to the database was lost; retry after Retry-After seconds.',
  },
} as const satisfies Record<ErrorKind, Record<string, string>>;

/** Every error code, as the compiler knows them: DomainError and problem() take only these. */
export type ErrorCode = { [K in ErrorKind]: keyof (typeof BY_KIND)[K] & string }[ErrorKind];

/**
 * Each code → its kind and what it means, in the order above: how a code is looked up. A code listed under
 * two kinds is refused when the module loads (an object literal would only have kept the last).
 */
export const ERROR_CATALOGUE = byCode(BY_KIND) as Readonly<Record<ErrorCode, readonly [ErrorKind, string]>>;

function byCode(byKind: Record<ErrorKind, Record<string, string>>): Record<string, readonly [ErrorKind, string]> {
  const codes: Record<string, readonly [ErrorKind, string]> = {};
  for (const [kind, texts] of Object.entries(byKind) as Array<[ErrorKind, Record<string, string>]>) {
    for (const [code, text] of Object.entries(texts)) {
      if (Object.hasOwn(codes, code)) throw new Error(`error catalogue: ${code} is listed under two kinds`);
      codes[code] = [kind, text];
    }
  }
  return codes;
}

import { Type } from 'typebox';

/** RFC 9457 problem details, as every tvpay error is answered. */
export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String(),
  },
  { additionalProperties: true },
);

/**
 * A phone number as typed, a string. Whatever else is sent (a number, an
 * array) is answered PHONE_INVALID by the error handler, like a string that
 * is not a mobile number of an accepted region is by the phone normaliser.
 */
export const PhoneInput = Type.String({
  maxLength: 64,
  description: 'A mobile number as typed, e.g. "13800138000" or "+86 138 0013 8000".',
});

/** An Idempotency-Key header accepted on POSTs that create or move something. */
export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
});

/**
 * A page size in a query string, 1 to 200. Query strings are not coerced
 * (a number is text there), so it is a pattern; the route reads it with Number().
 */
export const QueryLimit = Type.String({
  pattern: '^(200|1[0-9]{2}|[1-9][0-9]?)$',
  description: 'How many to answer, 1 to 200.',
});

/**
 * Plain-string fields by name, in the order given, to spread into a `Type.Object`: a contract lists its text
 * fields once instead of one `Type.String()` a line, and the schema (key order included) is the same.
 */
export function stringFields<const K extends string>(...names: K[]): { [P in K]: ReturnType<typeof Type.String> } {
  return Object.fromEntries(names.map((name) => [name, Type.String()])) as {
    [P in K]: ReturnType<typeof Type.String>;
  };
}

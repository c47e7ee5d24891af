import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import { MAX_AMOUNT_MINOR } from '../../lib/money.ts';
import type { AccountsService } from './accounts-service.ts';
import { PhoneInput, ProblemSchema } from '../../lib/http/schemas.ts';

const Balance = Type.Integer({ minimum: 0, maximum: MAX_AMOUNT_MINOR });
const Amount = Type.Integer({ minimum: 1, maximum: MAX_AMOUNT_MINOR });

const Account = Type.Object({
  accountId: Type.String(),
  phone: Type.String(),
  currency: Type.String(),
  quickPay: Type.Boolean(),
  wallet: Type.Object({ balanceMinor: Type.Integer(), heldMinor: Type.Integer() }),
  card: Type.Union([
    Type.Object({ last4: Type.String(), balanceMinor: Type.Integer(), heldMinor: Type.Integer() }),
    Type.Null(),
  ]),
});

const AccountParams = Type.Object(
  { accountId: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
);

const Audit = Type.Object({
  ok: Type.Boolean(),
  entries: Type.Integer(),
  accounts: Type.Integer(),
  problems: Type.Array(Type.Object({ kind: Type.String(), id: Type.String(), detail: Type.String() })),
});

const Entry = Type.Object({
  at: Type.String(),
  kind: Type.String(),
  source: Type.String(),
  amountMinor: Type.Integer(),
  ref: Type.String(),
});

const NewAccountBody = Type.Object(
  {
    phone: PhoneInput,
    currency: Type.String({ pattern: '^[A-Z]{3}$' }),
    walletMinor: Balance,
    card: Type.Optional(
      Type.Object(
        { last4: Type.String({ pattern: '^[0-9]{4}$' }), balanceMinor: Balance },
        { additionalProperties: false },
      ),
    ),
    quickPay: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const CreditBody = Type.Object(
  { target: Type.Union([Type.Literal('wallet'), Type.Literal('card')]), amountMinor: Amount },
  { additionalProperties: false },
);

/** Admin routes of the payment server: open accounts, read them and their entries, credit them, audit the ledger. */
export function accountsRoutes(
  app: FastifyInstance,
  accounts: AccountsService,
  audit: () => Promise<Static<typeof Audit>>,
  entries: (accountId: string) => Promise<Static<typeof Entry>[]>,
): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get('/admin/v1/ledger/audit', { schema: { response: { 200: Audit } } }, async () => audit());
  r.post(
    '/admin/v1/accounts',
    {
      schema: {
        body: NewAccountBody,
        response: { 201: Account, '4xx': ProblemSchema },
      },
    },
    async (request, reply) => reply.code(201).send(await accounts.create(request.body)),
  );
  r.get(
    '/admin/v1/accounts',
    {
      schema: {
        querystring: Type.Object(
          { phone: Type.String({ minLength: 1, maxLength: 32 }) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(Account) },
      },
    },
    async (request) => accounts.findViewsByPhone(request.query.phone),
  );
  r.get(
    '/admin/v1/accounts/:accountId',
    { schema: { params: AccountParams, response: { 200: Account, '4xx': ProblemSchema } } },
    async (request) => accounts.get(request.params.accountId),
  );
  r.get(
    '/admin/v1/accounts/:accountId/entries',
    { schema: { params: AccountParams, response: { 200: Type.Array(Entry), '4xx': ProblemSchema } } },
    async (request) => {
      await accounts.get(request.params.accountId);
      return entries(request.params.accountId);
    },
  );
  r.post(
    '/admin/v1/accounts/:accountId/credits',
    {
      schema: {
        params: AccountParams,
        body: CreditBody,
        response: { 200: Account, '4xx': ProblemSchema },
      },
    },
    async (request) => accounts.credit(request.params.accountId, request.body.target, request.body.amountMinor),
  );
}

import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { PayserverDb } from '../schema.ts';
import type { RailRegistry } from '../rails/registry.ts';

const RailView = Type.Object({
  rail: Type.String(),
  title: Type.Object({ 'zh-CN': Type.String(), en: Type.String() }),
  mode: Type.String(),
  /** The rail's clearing accounts (`la_{rail}_{currency}`): below zero is what the rail holds for tvpay. */
  clearing: Type.Array(
    Type.Object({ accountId: Type.String(), currency: Type.String(), balanceMinor: Type.Integer() }),
  ),
});

/**
 * The wallet provider's view of the rails that are on (`GET /admin/v1/rails`): each with whether it runs
 * against the development gateway and its clearing accounts' balances in the ledger, what the console's
 * Rails page shows next to each rail's reconciliation.
 */
export function railAdminRoutes(app: FastifyInstance, db: PayserverDb, rails: RailRegistry): void {
  app
    .withTypeProvider<TypeBoxTypeProvider>()
    .get('/admin/v1/rails', { schema: { response: { 200: Type.Array(RailView) } } }, async () => {
      const accounts = await db
        .selectFrom('ledger_accounts')
        .select(['id', 'currency', 'balance_minor'])
        .where('kind', '=', 'external')
        .orderBy('id')
        .execute();
      return rails.on.map((r) => ({
        rail: r.name,
        title: r.title,
        mode: r.mode,
        clearing: accounts
          .filter((a) => a.id === `la_${r.name}_${a.currency}`)
          .map((a) => ({ accountId: a.id, currency: a.currency, balanceMinor: Number(a.balance_minor) })),
      }));
    });
}

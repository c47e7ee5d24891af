import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Clock } from '../../lib/clock.ts';
import { notFound } from '../../lib/errors.ts';
import { assertCurrency, MAX_AMOUNT_MINOR } from '../../lib/money.ts';
import type { BackendDb, BackendTables } from '../schema.ts';
import { ProductSchema, type Product } from '../../contracts/tv-api.ts';

export type { Product } from '../../contracts/tv-api.ts';

const toProduct = (p: BackendTables['products']): Product => ({
  productId: p.id,
  title: p.title,
  amountMinor: Number(p.amount_minor),
  currency: p.currency,
  service: p.service,
  durationDays: p.duration_days,
});

/** The catalogue of paid packages an operator sells on its TVs. */
export class ProductsService {
  constructor(
    private readonly db: BackendDb,
    private readonly clock: Clock,
  ) {}

  /** Creates or replaces a product; orders already placed keep the price they were created with. */
  async put(productId: string, p: Omit<Product, 'productId'>): Promise<Product> {
    assertCurrency(p.currency);
    const row = { id: productId, title: p.title, amount_minor: p.amountMinor, currency: p.currency, service: p.service, duration_days: p.durationDays, updated_at: this.clock.now().toISOString() };
    await this.db
      .insertInto('products')
      .values(row)
      .onConflict((oc) => oc.column('id').doUpdateSet({ title: row.title, amount_minor: row.amount_minor, currency: row.currency, service: row.service, duration_days: row.duration_days, updated_at: row.updated_at }))
      .execute();
    return toProduct(row);
  }

  async list(): Promise<Product[]> {
    return (await this.db.selectFrom('products').selectAll().orderBy('amount_minor').orderBy('id').execute()).map(toProduct);
  }

  async get(productId: string): Promise<Product> {
    const row = await this.db.selectFrom('products').selectAll().where('id', '=', productId).executeTakeFirst();
    if (!row) throw notFound('PRODUCT_NOT_FOUND', `Product "${productId}"`);
    return toProduct(row);
  }
}

/** Ids that sit in URLs and logs: letters, digits, '.', '_' and '-'. */
const Slug = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' });

export function adminProductRoutes(app: FastifyInstance, products: ProductsService): void {
  app.withTypeProvider<TypeBoxTypeProvider>().put(
    '/admin/v1/products/:productId',
    {
      schema: {
        params: Type.Object({ productId: Slug }),
        body: Type.Object(
          {
            title: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' }),
            amountMinor: Type.Integer({ minimum: 1, maximum: MAX_AMOUNT_MINOR }),
            currency: Type.String({ pattern: '^[A-Z]{3}$' }),
            service: Type.String({ minLength: 1, maxLength: 64, pattern: '\\S' }),
            durationDays: Type.Integer({ minimum: 1, maximum: 3660 }),
          },
          { additionalProperties: false },
        ),
        response: { 200: ProductSchema },
      },
    },
    async (request) => products.put(request.params.productId, request.body),
  );
}

export function tvProductRoutes(app: FastifyInstance, products: ProductsService): void {
  app.withTypeProvider<TypeBoxTypeProvider>().get('/v1/products', { schema: { response: { 200: Type.Array(ProductSchema) } } }, async () => products.list());
}

import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Clock } from '../../lib/clock.ts';
import { notFound } from '../../lib/errors.ts';
import { preparedQuery } from '../../lib/db/prepared-query.ts';
import { moveRow } from '../../lib/db/rows.ts';
import { assertCurrency, MAX_AMOUNT_MINOR } from '../../lib/money.ts';
import type { BackendDb, BackendTables } from '../schema.ts';
import { LocalizedSchema, ProductSchema, type Localized, type Product } from '../../contracts/tv-api.ts';

export type { Product } from '../../contracts/tv-api.ts';

const toProduct = (p: BackendTables['products']): Product => ({
  productId: p.id,
  title: p.title,
  description: p.description,
  localized: p.localized ? (JSON.parse(p.localized) as Localized) : {},
  amountMinor: Number(p.amount_minor),
  currency: p.currency,
  service: p.service,
  durationDays: p.duration_days,
  renews: p.renews === 1,
});

/**
 * How long the TVs' catalogue is served as last read. Every TV asks for it, and read from the store each time it
 * waited for a pooled connection behind renewal day's work (half the TVs' calls in the bench's renewal day on
 * PostgreSQL, p99 483 ms). A change made through this instance is seen at once; one made through another (several
 * back-ends on one PostgreSQL) within this long. An order reads its product from the store, never from here.
 */
const CATALOGUE_FRESH_MS = 5_000;

/** A product on sale: every order's creation reads it. Built and compiled once (preparedQuery). */
const productOnSale = preparedQuery((db: BackendDb, productId: string) =>
  db.selectFrom('products').selectAll().where('id', '=', productId).where('retired_at', 'is', null),
);

/** The catalogue of paid packages an operator sells on its TVs. */
export class ProductsService {
  /** The TVs' catalogue as last read, and when; dropped by every change made here. */
  private listed: { at: number; products: Promise<Product[]> } | undefined;

  constructor(
    private readonly db: BackendDb,
    private readonly clock: Clock,
  ) {}

  /** Creates or replaces a product; orders already placed keep the price they were created with. */
  async put(
    productId: string,
    p: Omit<Product, 'productId' | 'renews' | 'description' | 'localized'> & {
      renews?: boolean;
      description?: string;
      localized?: Localized;
    },
  ): Promise<Product> {
    assertCurrency(p.currency);
    const localized = p.localized && Object.keys(p.localized).length ? JSON.stringify(p.localized) : null;
    const row = {
      id: productId,
      title: p.title,
      description: p.description ?? '',
      localized,
      amount_minor: p.amountMinor,
      currency: p.currency,
      service: p.service,
      duration_days: p.durationDays,
      updated_at: this.clock.now().toISOString(),
      retired_at: null,
      renews: p.renews ? 1 : 0,
    };
    // A PUT of a retired product puts it back on sale.
    await this.db
      .insertInto('products')
      .values(row)
      .onConflict((oc) =>
        oc.column('id').doUpdateSet({
          title: row.title,
          description: row.description,
          localized: row.localized,
          amount_minor: row.amount_minor,
          currency: row.currency,
          service: row.service,
          duration_days: row.duration_days,
          updated_at: row.updated_at,
          retired_at: null,
          renews: row.renews,
        }),
      )
      .execute();
    this.listed = undefined;
    return toProduct(row);
  }

  /** What TVs may buy: the products on sale, as read at most CATALOGUE_FRESH_MS ago. */
  list(): Promise<Product[]> {
    const now = this.clock.now().getTime();
    const listed = this.listed;
    if (listed && now >= listed.at && now - listed.at < CATALOGUE_FRESH_MS) return listed.products;
    const products = this.onSale();
    this.listed = { at: now, products };
    products.catch(() => {
      if (this.listed?.products === products) this.listed = undefined;
    });
    return products;
  }

  private async onSale(): Promise<Product[]> {
    return (
      await this.db
        .selectFrom('products')
        .selectAll()
        .where('retired_at', 'is', null)
        .orderBy('amount_minor')
        .orderBy('id')
        .execute()
    ).map(toProduct);
  }

  /** Every product, retired ones too (with when), for operators. */
  async listAll(): Promise<Array<Product & { retiredAt: string | null }>> {
    return (await this.db.selectFrom('products').selectAll().orderBy('amount_minor').orderBy('id').execute()).map(
      (r) => ({ ...toProduct(r), retiredAt: r.retired_at }),
    );
  }

  /** A product on sale (a retired one is not found: no new order can be made for it). */
  async get(productId: string): Promise<Product> {
    const row = (await productOnSale(this.db, productId)).rows[0];
    if (!row) throw notFound('PRODUCT_NOT_FOUND', `Product "${productId}"`);
    return toProduct(row);
  }

  /** A product's current price and title, retired or not (what a renewal is charged and called). */
  async terms(productId: string): Promise<{ amountMinor: number; title: string } | undefined> {
    const row = await this.db
      .selectFrom('products')
      .select(['amount_minor', 'title'])
      .where('id', '=', productId)
      .executeTakeFirst();
    return row ? { amountMinor: Number(row.amount_minor), title: row.title } : undefined;
  }

  /** Takes a product off sale: TVs stop seeing it; orders made for it keep their title and price. */
  async retire(productId: string): Promise<void> {
    const row = await this.db
      .selectFrom('products')
      .select('retired_at')
      .where('id', '=', productId)
      .executeTakeFirst();
    if (!row) throw notFound('PRODUCT_NOT_FOUND', `Product "${productId}"`);
    if (row.retired_at) return;
    const retired = { retired_at: this.clock.now().toISOString() };
    await moveRow(this.db, 'products', { id: productId, retired_at: null }, retired);
    this.listed = undefined;
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
            durationDays: Type.Integer({
              minimum: 1,
              maximum: 3660,
              description: 'Whole days; a renewing product renews every this many days.',
            }),
            renews: Type.Optional(
              Type.Boolean({
                description:
                  'Renews every durationDays under the payer’s quick-pay agreement until cancelled (default false).',
              }),
            ),
            description: Type.Optional(
              Type.String({ maxLength: 400, description: 'What the package gives, in the language of `title`.' }),
            ),
            localized: Type.Optional(LocalizedSchema),
          },
          { additionalProperties: false },
        ),
        response: { 200: ProductSchema },
      },
    },
    async (request) => products.put(request.params.productId, request.body),
  );
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get(
    '/admin/v1/products',
    {
      schema: {
        response: {
          200: Type.Array(
            Type.Intersect([ProductSchema, Type.Object({ retiredAt: Type.Union([Type.String(), Type.Null()]) })]),
          ),
        },
      },
    },
    async () => products.listAll(),
  );
  r.delete(
    '/admin/v1/products/:productId',
    { schema: { params: Type.Object({ productId: Slug }) } },
    async (request, reply) => {
      await products.retire(request.params.productId);
      return reply.code(204).send();
    },
  );
}

export function tvProductRoutes(app: FastifyInstance, products: ProductsService): void {
  app
    .withTypeProvider<TypeBoxTypeProvider>()
    .get('/v1/products', { schema: { response: { 200: Type.Array(ProductSchema) } } }, async () => products.list());
}
